package host

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// PyExecuteRequest is a parsed RG.PYEXECUTE.
type PyExecuteRequest struct {
	Code         string
	Unblocking   bool
	ID           string
	Description  *string
	Upgrade      bool
	ReplaceWith  string
	ForceReinst  bool
	Requirements []string
}

// PyExecuteResult is what RG.PYEXECUTE replies: exactly one field is set.
type PyExecuteResult struct {
	OK          bool
	ExecutionID string // UNBLOCKING
	Reply       []byte // blocking run: raw RESP [[results],[errors]]
}

// PyExecute runs a script in a new session. A session whose script
// registered something stays (and is persisted); otherwise it is freed
// when its execution ends.
func (g *Gears) PyExecute(ctx context.Context, req PyExecuteRequest) (PyExecuteResult, error) {
	id := req.ID
	if id == "" {
		id = fmt.Sprintf("%x", randomBytes(20))
	}
	g.mu.Lock()
	old := g.sessions[id]
	var replaced *Session
	if req.ReplaceWith != "" {
		replaced = g.sessions[req.ReplaceWith]
	}
	g.mu.Unlock()
	switch {
	case old != nil && !req.Upgrade:
		return PyExecuteResult{}, ErrorReply(fmt.Sprintf("Session %s already exists", id))
	case req.ReplaceWith != "" && old != nil:
		return PyExecuteResult{}, ErrorReply(fmt.Sprintf("Can not replace an existing session %s with %s", id, req.ReplaceWith))
	case req.ReplaceWith != "" && replaced == nil:
		return PyExecuteResult{}, ErrorReply(fmt.Sprintf("Can not replace with %s, session does not exists.", req.ReplaceWith))
	}
	if replaced != nil {
		old = replaced
	}
	set, err := g.sessionRequirements(req, old)
	if err != nil {
		return PyExecuteResult{}, err
	}

	s, err := g.newSession(ctx, id, req.Description)
	if err != nil {
		return PyExecuteResult{}, err
	}
	if err := s.mountRequirements(ctx, set); err != nil {
		s.close(context.WithoutCancel(ctx))
		return PyExecuteResult{}, fmt.Errorf("mount requirements: %w", err)
	}
	s.code = req.Code
	s.replacing = old
	var created []*Execution
	s.onCreate = func(e *Execution) { created = append(created, e) }
	err = s.Do(ctx, func(ctx context.Context, in *Instance) error {
		if limit := g.timeLimit(); limit > 0 {
			t := time.AfterFunc(limit, func() { in.Stop() })
			defer t.Stop()
		}
		if _, err := in.Invoke(ctx, opResetScript, nil); err != nil {
			return err
		}
		_, err := in.Invoke(ctx, abi.OpExec, []byte(req.Code))
		return err
	})
	s.onCreate = nil
	regs := s.pendingRegs
	s.pendingRegs = nil
	if err != nil {
		s.close(context.WithoutCancel(ctx))
		for _, e := range created {
			g.DropExecution(e.ID)
		}
		return PyExecuteResult{}, scriptError(err)
	}
	if len(regs) > 0 {
		if old != nil { // UPGRADE / REPLACE_WITH: the old session goes
			g.retire(ctx, old)
		}
		g.mu.Lock()
		g.sessions[id] = s
		g.mu.Unlock()
		g.commitRegistrations(s, regs)
		g.persistSession(s)
		g.onRegistered(ctx, s, regs)
	}
	if len(created) == 0 {
		s.release(ctx)
		return PyExecuteResult{OK: true}, nil
	}
	e := created[0]
	if req.Unblocking {
		go func() {
			g.runExecution(context.WithoutCancel(ctx), e)
			s.release(context.Background())
		}()
		return PyExecuteResult{ExecutionID: e.ID}, nil
	}
	g.runExecution(ctx, e)
	s.release(ctx)
	if len(regs) > 0 {
		return PyExecuteResult{OK: true}, nil
	}
	if msg := e.failure(); msg != "" {
		return PyExecuteResult{}, ErrorReply(msg)
	}
	return PyExecuteResult{Reply: e.Reply()}, nil
}

// retire unregisters every registration of an upgraded session and frees it.
func (g *Gears) retire(ctx context.Context, old *Session) {
	g.mu.Lock()
	regs := append([]*Registration(nil), old.regs...)
	g.mu.Unlock()
	for _, r := range regs {
		g.Unregister(ctx, r.ID, false)
	}
	g.forgetSession(old)
	old.close(ctx)
}

func (g *Gears) onRegistered(ctx context.Context, s *Session, regs []*Registration) {
	for _, r := range regs {
		err := s.Do(ctx, func(ctx context.Context, in *Instance) error {
			_, err := in.Invoke(ctx, opRegOnRegistered, []byte(r.ID))
			return err
		})
		if err != nil {
			g.log.Warn("onRegistered failed", "registration", r.ID, "err", err)
		}
	}
}

// Session returns a live session by id.
func (g *Gears) Session(id string) *Session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessions[id]
}

// Sessions lists the live sessions by id.
func (g *Gears) Sessions() []*Session {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Session, 0, len(g.sessions))
	for _, s := range g.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SessionRegistrations lists a session's registration ids.
func (g *Gears) SessionRegistrations(s *Session) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, len(s.regs))
	for i, r := range s.regs {
		ids[i] = r.ID
	}
	return ids
}

func (g *Gears) forgetSession(s *Session) {
	g.mu.Lock()
	if g.sessions[s.ID] == s {
		delete(g.sessions, s.ID)
	}
	g.mu.Unlock()
	if g.db != nil {
		if err := g.db.DeleteSystem("session", s.ID); err != nil {
			g.log.Error("forget session", "session", s.ID, "err", err)
		}
	}
}

// persisted is a session's system record.
type persisted struct {
	ID            string   `json:"id"`
	Code          string   `json:"code"`
	Description   *string  `json:"description"`
	Requirements  []string `json:"requirements"`
	Registrations []string `json:"registrations"`
	// Resolved pins the requirements (name==version) for restore.
	Resolved []string `json:"resolved,omitempty"`
}

func (g *Gears) persistSession(s *Session) {
	if g.db == nil {
		return
	}
	p := persisted{ID: s.ID, Code: s.code, Description: s.Description, Requirements: s.RequirementNames(), Registrations: g.SessionRegistrations(s), Resolved: s.RequirementPins()}
	b, err := json.Marshal(p)
	if err == nil {
		err = g.db.PutSystem("session", s.ID, b)
	}
	if err != nil {
		g.log.Error("persist session", "session", s.ID, "err", err)
	}
}

// Restore re-creates the persisted sessions: each script runs again in
// restore mode (run() does nothing, writes are refused) and its
// registrations get their old ids back; onRegistered runs again.
func (g *Gears) Restore(ctx context.Context) error {
	if g.db == nil {
		return nil
	}
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil
	}
	g.restores.Add(1)
	g.mu.Unlock()
	defer g.restores.Done()
	recs, err := g.db.SystemRecords("session")
	if err != nil {
		return fmt.Errorf("restore sessions: %w", err)
	}
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var p persisted
		if err := json.Unmarshal(recs[n], &p); err != nil {
			g.log.Error("restore session: corrupt record", "session", n, "err", err)
			continue
		}
		if err := g.restoreOne(ctx, p); err != nil {
			g.log.Error("restore session failed", "session", p.ID, "err", err)
			continue
		}
		g.log.Info("session restored", "session", p.ID, "registrations", len(p.Registrations))
	}
	return nil
}

func (g *Gears) restoreOne(ctx context.Context, p persisted) (err error) {
	var set *reqSet
	if len(p.Resolved) > 0 {
		if set, err = g.pinnedRequirements(p.Requirements, p.Resolved); err != nil {
			return err
		}
	} else if len(p.Requirements) > 0 {
		if set, err = g.resolveRequirements(p.Requirements); err != nil {
			return err
		}
	}
	s, err := g.newSession(ctx, p.ID, p.Description)
	if err != nil {
		return err
	}
	if err := s.mountRequirements(ctx, set); err != nil {
		s.close(ctx)
		return err
	}
	s.code = p.Code
	s.restoreIDs = append([]string{}, p.Registrations...)
	s.restoring = true
	err = s.Do(ctx, func(ctx context.Context, in *Instance) error {
		if _, err := in.Invoke(ctx, opResetScript, []byte("restore")); err != nil {
			return err
		}
		_, err := in.Invoke(ctx, abi.OpExec, []byte(p.Code))
		return err
	})
	s.restoring = false
	regs := s.pendingRegs
	s.pendingRegs, s.restoreIDs = nil, nil
	if err != nil {
		s.close(ctx)
		return scriptError(err)
	}
	g.mu.Lock()
	g.sessions[p.ID] = s
	g.mu.Unlock()
	g.commitRegistrations(s, regs)
	g.onRegistered(ctx, s, regs)
	return nil
}
