package host

// Requirements (DESIGN.md "Requirements", docs/requirements.md): uploaded
// wheels and WASM-packaged requirements, validated by toolchain/pack,
// stored content-addressed as system records ("req" sha256 -> archive,
// "reqmeta" name==version -> metadata JSON) and resolved per session.
// Each session mounts its resolved set, with the gears API, read-only at
// /usr/local/site, so two sessions can use two versions of one package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/wasmgears/wasmgears/toolchain/pack"
)

// ReqMeta is a stored requirement's metadata.
type ReqMeta struct {
	Name        string            `json:"name"`
	Key         string            `json:"key"`
	Version     string            `json:"version"`
	Filename    string            `json:"filename"`
	SHA256      string            `json:"sha256"`
	Size        int64             `json:"size"`
	Summary     string            `json:"summary,omitempty"`
	Requires    []string          `json:"requires,omitempty"`
	Wasm        bool              `json:"wasm,omitempty"`
	WasmModules map[string]string `json:"wasm_modules,omitempty"`
}

// Pin is "key==version".
func (m *ReqMeta) Pin() string { return m.Key + "==" + m.Version }

type reqStore struct {
	g      *Gears
	mu     sync.Mutex
	loaded bool
	metas  map[string]*ReqMeta   // pin -> meta
	byKey  map[string][]*ReqMeta // key -> highest version first
	blobs  map[string][]byte     // sha -> archive
	dists  map[string]*pack.Dist // sha -> extracted files
	sets   map[string]*reqSet    // pins joined -> resolved set (shared)
}

var reqStores sync.Map // *Gears -> *reqStore

func (g *Gears) reqStore() *reqStore {
	v, _ := reqStores.LoadOrStore(g, &reqStore{g: g})
	return v.(*reqStore)
}

// load reads the stored requirements once (under st.mu).
func (st *reqStore) load() error {
	if st.loaded {
		return nil
	}
	st.metas, st.byKey = map[string]*ReqMeta{}, map[string][]*ReqMeta{}
	st.blobs, st.dists, st.sets = map[string][]byte{}, map[string]*pack.Dist{}, map[string]*reqSet{}
	if db := st.g.db; db != nil {
		blobs, err := db.SystemRecords("req")
		if err != nil {
			return fmt.Errorf("load requirements: %w", err)
		}
		st.blobs = blobs
		recs, err := db.SystemRecords("reqmeta")
		if err != nil {
			return fmt.Errorf("load requirements: %w", err)
		}
		for pin, b := range recs {
			var m ReqMeta
			if err := json.Unmarshal(b, &m); err != nil {
				st.g.log.Error("requirement: corrupt metadata record", "requirement", pin, "err", err)
				continue
			}
			if _, ok := st.blobs[m.SHA256]; !ok {
				st.g.log.Error("requirement: archive missing", "requirement", pin, "sha256", m.SHA256)
				continue
			}
			st.index(&m)
		}
	}
	st.loaded = true
	return nil
}

func (st *reqStore) index(m *ReqMeta) {
	st.metas[m.Pin()] = m
	l := append(st.byKey[m.Key], m)
	sort.SliceStable(l, func(i, j int) bool { return pack.CompareVersions(l[i].Version, l[j].Version) > 0 })
	st.byKey[m.Key] = l
}

// reqLimits are the upload limits (RequirementMaxSizeMB).
func (g *Gears) reqLimits() pack.Limits {
	lim := pack.DefaultLimits
	if mb := g.cfg.Int("RequirementMaxSizeMB"); mb > 0 {
		lim.MaxSize = mb << 20
		lim.MaxEntrySize = mb << 20
	}
	return lim
}

// ImportRequirement validates and stores a requirement archive (a wheel or
// a WASM-packaged requirement). Importing the same archive again is a
// no-op; a different archive for a stored name==version is refused.
func (g *Gears) ImportRequirement(data []byte, filename string) (*ReqMeta, error) {
	d, err := pack.Inspect(data, filename, g.reqLimits())
	if err != nil {
		return nil, err
	}
	if !pack.ValidVersion(d.Version) {
		return nil, fmt.Errorf("requirement %s has a version that is not PEP 440: %s", d.Name, d.Version)
	}
	for _, r := range d.Requires {
		if _, err := pack.ParseReq(r); err != nil {
			return nil, fmt.Errorf("requirement %s: Requires-Dist: %v", d.Name, err)
		}
	}
	m := &ReqMeta{Name: d.Name, Key: d.Key, Version: d.Version, Filename: d.Filename(), SHA256: d.SHA256, Size: d.Size,
		Summary: d.Summary, Requires: d.Requires, Wasm: d.Wasm, WasmModules: d.WasmModules}
	st := g.reqStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.load(); err != nil {
		return nil, err
	}
	if old, ok := st.metas[m.Pin()]; ok {
		if old.SHA256 == m.SHA256 {
			return old, nil
		}
		return nil, fmt.Errorf("requirement %s already exists with different content (sha256 %s)", m.Pin(), old.SHA256)
	}
	if g.db != nil {
		mb, _ := json.Marshal(m)
		if err := g.db.PutSystem("req", m.SHA256, data); err != nil {
			return nil, fmt.Errorf("store requirement: %w", err)
		}
		if err := g.db.PutSystem("reqmeta", m.Pin(), mb); err != nil {
			_ = g.db.DeleteSystem("req", m.SHA256)
			return nil, fmt.Errorf("store requirement: %w", err)
		}
	}
	st.blobs[m.SHA256] = data
	st.dists[m.SHA256] = d
	st.index(m)
	g.log.Info("requirement imported", "requirement", m.Pin(), "sha256", m.SHA256, "wasm", m.Wasm)
	return m, nil
}

// Requirements lists the stored requirements, by name then version.
func (g *Gears) Requirements() ([]*ReqMeta, error) {
	st := g.reqStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.load(); err != nil {
		return nil, err
	}
	out := make([]*ReqMeta, 0, len(st.metas))
	keys := make([]string, 0, len(st.byKey))
	for k := range st.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := st.byKey[k]
		for i := len(l) - 1; i >= 0; i-- {
			out = append(out, l[i])
		}
	}
	return out, nil
}

// ExportRequirement returns a stored requirement and its archive: spec is
// "name" (highest version) or "name==version".
func (g *Gears) ExportRequirement(spec string) (*ReqMeta, []byte, error) {
	st := g.reqStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.load(); err != nil {
		return nil, nil, err
	}
	name, ver, exact := strings.Cut(spec, "==")
	var m *ReqMeta
	if exact {
		m = st.metas[pack.Normalize(strings.TrimSpace(name))+"=="+strings.TrimSpace(ver)]
	} else if l := st.byKey[pack.Normalize(strings.TrimSpace(name))]; len(l) > 0 {
		m = l[0]
	}
	if m == nil {
		return nil, nil, errReqMissing
	}
	return m, st.blobs[m.SHA256], nil
}

var errReqMissing = errors.New("requirement does not exists")

// RequirementRefs counts the live sessions using each pin.
func (g *Gears) RequirementRefs() map[string]int {
	refs := map[string]int{}
	for _, s := range g.Sessions() {
		for _, p := range s.reqs.pinList() {
			refs[p]++
		}
	}
	return refs
}

// reqSet is a session's resolved requirements, mounted with the API.
type reqSet struct {
	requested []string
	pins      []string // sorted key==version
	metas     []*ReqMeta
	tree      *siteTree
	wasm      map[string][]byte // module name -> code
}

func (r *reqSet) pinList() []string {
	if r == nil {
		return nil
	}
	return r.pins
}

func (r *reqSet) wasmModules() map[string][]byte {
	if r == nil {
		return nil
	}
	return r.wasm
}

// RequirementNames are the requirements the session asked for.
func (s *Session) RequirementNames() []string {
	if s.reqs == nil {
		return []string{}
	}
	return s.reqs.requested
}

// RequirementPins are the session's resolved requirements (name==version).
func (s *Session) RequirementPins() []string { return s.reqs.pinList() }

// UnsatisfiedError is the reply when a requirement list cannot be resolved.
func unsatisfied(missing []string) error {
	return ErrorReply("Could not satisfy requirements, look at the log file for more information. missing: " + strings.Join(missing, ", "))
}

// pythonFull is the guest's Python version for markers.
const pythonFull = "3.13.5"

var guestEnv = pack.GuestEnv(pythonFull)

// resolve picks, for the requested list, the highest versions satisfying
// every specifier, following Requires-Dist (markers evaluated for the
// guest: Python 3.13, sys_platform wasi).
func (g *Gears) resolveRequirements(requested []string) (*reqSet, error) {
	if len(requested) == 0 {
		return nil, nil
	}
	var roots []*pack.Req
	for _, s := range requested {
		r, err := pack.ParseReq(s)
		if err != nil {
			g.log.Warn("could not satisfy requirements", "err", err)
			return nil, unsatisfied([]string{s})
		}
		roots = append(roots, r)
	}
	st := g.reqStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.load(); err != nil {
		return nil, err
	}
	rs := &resolver{st: st, chosen: map[string]*ReqMeta{}, missing: map[string]string{}}
	var pending []pendingReq
	for _, r := range roots {
		pending = append(pending, pendingReq{req: r, from: ""})
	}
	if !rs.solve(pending) {
		// report every requirement that nothing stored satisfies on its own
		for _, r := range roots {
			if _, seen := rs.missing[r.Key]; seen {
				continue
			}
			found := false
			for _, c := range st.byKey[r.Key] {
				found = found || r.Allows(c.Version)
			}
			if !found {
				rs.missing[r.Key] = r.String()
			}
		}
		missing := make([]string, 0, len(rs.missing))
		for _, m := range rs.missing {
			missing = append(missing, m)
		}
		sort.Strings(missing)
		if len(missing) == 0 {
			missing = []string{"conflicting requirements: " + strings.Join(requested, ", ")}
		}
		g.log.Warn("could not satisfy requirements", "requirements", requested, "missing", missing)
		return nil, unsatisfied(missing)
	}
	metas := make([]*ReqMeta, 0, len(rs.chosen))
	for _, m := range rs.chosen {
		metas = append(metas, m)
	}
	return st.set(requested, metas)
}

// pinnedRequirements rebuilds a restored session's set from its pins.
func (g *Gears) pinnedRequirements(requested, pins []string) (*reqSet, error) {
	st := g.reqStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.load(); err != nil {
		return nil, err
	}
	var metas []*ReqMeta
	var missing []string
	for _, p := range pins {
		if m := st.metas[p]; m != nil {
			metas = append(metas, m)
		} else {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, unsatisfied(missing)
	}
	return st.set(requested, metas)
}

// set builds (or reuses) the mounted tree of a resolved set (under st.mu).
func (st *reqStore) set(requested []string, metas []*ReqMeta) (*reqSet, error) {
	sort.Slice(metas, func(i, j int) bool { return metas[i].Key < metas[j].Key })
	pins := make([]string, len(metas))
	for i, m := range metas {
		pins[i] = m.Pin()
	}
	key := strings.Join(pins, " ")
	base := st.sets[key]
	if base == nil {
		layers := []map[string][]byte{apiLayer()}
		wasm := map[string][]byte{}
		for _, m := range metas {
			d, err := st.dist(m)
			if err != nil {
				return nil, err
			}
			layers = append(layers, d.Files)
			for mod, p := range d.WasmModules {
				if _, dup := wasm[mod]; dup {
					return nil, fmt.Errorf("requirements: two requirements provide the wasm module %s", mod)
				}
				wasm[mod] = d.Files[p]
			}
		}
		tree, err := newSiteTree(layers...)
		if err != nil {
			return nil, fmt.Errorf("requirements %s conflict: %w", key, err)
		}
		base = &reqSet{pins: pins, metas: metas, tree: tree, wasm: wasm}
		st.sets[key] = base
	}
	out := *base
	out.requested = append([]string{}, requested...)
	return &out, nil
}

func (st *reqStore) dist(m *ReqMeta) (*pack.Dist, error) {
	if d := st.dists[m.SHA256]; d != nil {
		return d, nil
	}
	d, err := pack.Inspect(st.blobs[m.SHA256], "", pack.Limits{})
	if err != nil {
		return nil, fmt.Errorf("requirement %s: stored archive is invalid: %w", m.Pin(), err)
	}
	st.dists[m.SHA256] = d
	return d, nil
}

type pendingReq struct {
	req  *pack.Req
	from string // the pin that required it ("" = the session)
}

type resolver struct {
	st      *reqStore
	chosen  map[string]*ReqMeta
	cons    []pendingReq
	missing map[string]string // key -> description
	steps   int
}

// solve is a depth-first search with backtracking: candidates are tried
// highest version first, so the first solution found prefers the highest
// versions in requirement order.
func (rs *resolver) solve(pending []pendingReq) bool {
	rs.steps++
	if rs.steps > 100000 {
		return false
	}
	if len(pending) == 0 {
		return true
	}
	p, rest := pending[0], pending[1:]
	key := p.req.Key
	if m := rs.chosen[key]; m != nil {
		if !p.req.Allows(m.Version) {
			return false
		}
		rs.cons = append(rs.cons, p)
		ok := rs.solve(rest)
		if !ok {
			rs.cons = rs.cons[:len(rs.cons)-1]
		}
		return ok
	}
	cands := rs.st.byKey[key]
	tried := false
	for _, c := range cands {
		if !p.req.Allows(c.Version) || !rs.allowedByAll(key, c.Version) {
			continue
		}
		tried = true
		next := append([]pendingReq{}, rest...)
		for _, rd := range c.Requires {
			dr, err := pack.ParseReq(rd)
			if err != nil {
				continue
			}
			if !markerApplies(dr.Marker, p.req.Extras) {
				continue
			}
			next = append(next, pendingReq{req: dr, from: c.Pin()})
		}
		rs.chosen[key] = c
		rs.cons = append(rs.cons, p)
		if rs.solve(next) {
			return true
		}
		rs.cons = rs.cons[:len(rs.cons)-1]
		delete(rs.chosen, key)
	}
	if !tried {
		desc := p.req.String()
		if p.from != "" {
			desc += " (required by " + p.from + ")"
		}
		if len(cands) > 0 {
			vs := make([]string, len(cands))
			for i, c := range cands {
				vs[i] = c.Version
			}
			desc += " (available: " + strings.Join(vs, ", ") + ")"
		}
		rs.missing[key] = desc
	}
	return false
}

func (rs *resolver) allowedByAll(key, version string) bool {
	for _, c := range rs.cons {
		if c.req.Key == key && !c.req.Allows(version) {
			return false
		}
	}
	return true
}

// markerApplies evaluates a Requires-Dist marker for the guest, with the
// extras the requirement was asked with.
func markerApplies(marker string, extras []string) bool {
	if marker == "" {
		return true
	}
	env := guestEnv
	ok, err := pack.EvalMarker(marker, env)
	if err == nil && ok {
		return true
	}
	for _, e := range extras {
		env2 := make(map[string]string, len(env))
		for k, v := range env {
			env2[k] = v
		}
		env2["extra"] = e
		if ok, err := pack.EvalMarker(marker, env2); err == nil && ok {
			return true
		}
	}
	return false
}

// refreshSite makes the interpreter see the new /usr/local/site: only its
// FileFinder (importlib.invalidate_caches would also re-read the stdlib
// zip's directory: ~100 ms) and importlib.metadata's cache if loaded.
const refreshSite = `import sys as _s
_f = _s.path_importer_cache.get('/usr/local/site')
if _f is not None:
    _f.invalidate_caches()
if 'importlib.metadata' in _s.modules:
    _s.modules['importlib.metadata'].MetadataPathFinder.invalidate_caches()
del _s, _f
`

// mountRequirements points the session's interpreter at its resolved set.
func (s *Session) mountRequirements(ctx context.Context, set *reqSet) error {
	s.reqs = set
	if set == nil {
		return nil
	}
	s.site.cur.Store(set.tree)
	return s.Do(ctx, func(ctx context.Context, in *Instance) error {
		return in.Exec(ctx, refreshSite)
	})
}

// sessionRequirements decides a new session's set: an UPGRADE with the
// same list keeps the old session's versions unless
// FORCE_REINSTALL_REQUIREMENTS asks to resolve again.
func (g *Gears) sessionRequirements(req PyExecuteRequest, old *Session) (*reqSet, error) {
	if old != nil && old.reqs != nil && !req.ForceReinst && sameList(old.reqs.requested, req.Requirements) {
		return g.pinnedRequirements(req.Requirements, old.reqs.pins)
	}
	return g.resolveRequirements(req.Requirements)
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
