// Package pack reads, validates and builds wasmgears requirements: pure-Python
// wheels (py3-none-any, py2.py3-none-any) and WASM-packaged requirements
// (wheels tagged py3-none-wasm32_wasi holding Python code plus .wasm
// modules the session loads through the host, see docs/requirements.md).
//
// Inspect is what the server runs on every upload: it refuses corrupt
// archives, RECORD mismatches, unsafe paths, symlinks, zip bombs, oversize
// archives and native-platform wheels, and extracts the files into memory.
package pack

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// WasmTag is the platform tag of WASM-packaged requirements.
const WasmTag = "wasm32_wasi"

// Limits bound what Inspect accepts.
type Limits struct {
	MaxSize      int64 // archive size and total uncompressed size, bytes
	MaxFiles     int   // entries in the archive
	MaxRatio     int64 // compression ratio above which an entry is a zip bomb
	MaxEntrySize int64 // one uncompressed entry
}

// DefaultLimits: 50 MiB, 20000 entries, ratio 200.
var DefaultLimits = Limits{MaxSize: 50 << 20, MaxFiles: 20000, MaxRatio: 200, MaxEntrySize: 50 << 20}

// Dist is a validated requirement.
type Dist struct {
	Name     string   // as written in METADATA
	Key      string   // normalized name (PEP 503)
	Version  string   // as written in METADATA
	Requires []string // Requires-Dist lines
	Summary  string
	Tag      string // e.g. py3-none-any
	Wasm     bool   // a WASM-packaged requirement
	// WasmModules maps a module name (file base name without .wasm) to its
	// path in Files.
	WasmModules map[string]string
	// Files are the installed files (purelib root), dist-info included.
	Files  map[string][]byte
	SHA256 string // of the archive
	Size   int64  // archive size
}

// Filename is the canonical wheel file name.
func (d *Dist) Filename() string {
	return fmt.Sprintf("%s-%s-%s.whl", wheelEscape(d.Name), verEscape(d.Version), d.Tag)
}

// Pin is "name==version" with the normalized name.
func (d *Dist) Pin() string { return d.Key + "==" + d.Version }

var normRe = regexp.MustCompile(`[-_.]+`)

// Normalize is PEP 503 name normalization.
func Normalize(name string) string { return strings.ToLower(normRe.ReplaceAllString(name, "-")) }

func wheelEscape(s string) string { return normRe.ReplaceAllString(s, "_") }

func verEscape(v string) string { return strings.ReplaceAll(v, "-", "_") }

// reserved top-level names belong to the gears API.
var reserved = map[string]bool{"gearsapi.py": true, "redisgears.py": true, "gearsreg.py": true, "gears": true, "gears.py": true, "_gears": true}

// Error is a refused upload.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func refuse(format string, a ...any) error { return &Error{fmt.Sprintf(format, a...)} }

// Inspect validates a wheel and extracts it. name is the upload's file name
// ("" when unknown); its tags are checked when given.
func Inspect(data []byte, name string, lim Limits) (*Dist, error) {
	if lim.MaxSize > 0 && int64(len(data)) > lim.MaxSize {
		return nil, refuse("requirement too large: %d bytes (limit %d)", len(data), lim.MaxSize)
	}
	if name != "" {
		if err := checkTags(strings.TrimSuffix(path.Base(name), ".whl"), true); err != nil {
			return nil, err
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, refuse("corrupt wheel: %v", err)
	}
	if lim.MaxFiles > 0 && len(zr.File) > lim.MaxFiles {
		return nil, refuse("wheel has too many files: %d (limit %d)", len(zr.File), lim.MaxFiles)
	}
	raw := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		n := f.Name
		if strings.HasSuffix(n, "/") {
			if err := checkPath(strings.TrimSuffix(n, "/")); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkPath(n); err != nil {
			return nil, err
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return nil, refuse("wheel contains a symlink: %s", n)
		}
		if f.Mode()&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0 {
			return nil, refuse("wheel contains a special file: %s", n)
		}
		if _, dup := raw[n]; dup {
			return nil, refuse("wheel contains %s twice", n)
		}
		us := int64(f.UncompressedSize64)
		if lim.MaxEntrySize > 0 && us > lim.MaxEntrySize {
			return nil, refuse("requirement file too large: %s is %d bytes (limit %d)", n, us, lim.MaxEntrySize)
		}
		if lim.MaxRatio > 0 && us > 1<<20 && us > lim.MaxRatio*int64(max(f.CompressedSize64, 1)) {
			return nil, refuse("zip bomb: %s expands %d -> %d bytes", n, f.CompressedSize64, us)
		}
		total += us
		if lim.MaxSize > 0 && total > lim.MaxSize {
			return nil, refuse("requirement too large: more than %d bytes uncompressed (limit %d)", total, lim.MaxSize)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, refuse("corrupt wheel: %s: %v", n, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, us+1))
		rc.Close()
		if err != nil {
			return nil, refuse("corrupt wheel: %s: %v", n, err)
		}
		if int64(len(b)) != us {
			return nil, refuse("corrupt wheel: %s: size does not match its header (zip bomb?)", n)
		}
		raw[n] = b
	}
	d, err := fromFiles(raw)
	if err != nil {
		return nil, err
	}
	if name != "" {
		parts := strings.Split(strings.TrimSuffix(path.Base(name), ".whl"), "-")
		if Normalize(parts[0]) != d.Key {
			return nil, refuse("wheel file name %s does not match its metadata name %s", name, d.Name)
		}
	}
	sum := sha256.Sum256(data)
	d.SHA256 = hex.EncodeToString(sum[:])
	d.Size = int64(len(data))
	return d, nil
}

func checkPath(n string) error {
	switch {
	case n == "":
		return refuse("wheel contains an empty path")
	case strings.HasPrefix(n, "/") || strings.Contains(n, `\`) || (len(n) > 1 && n[1] == ':'):
		return refuse("wheel contains an absolute path: %s", n)
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return refuse("wheel contains a path escaping its root: %s", n)
		}
	}
	if !fs.ValidPath(n) {
		return refuse("wheel contains an invalid path: %s", n)
	}
	return nil
}

// checkTags checks a wheel file name (without .whl) or a WHEEL Tag line.
func checkTags(s string, filename bool) error {
	var py, abi, plat string
	if filename {
		parts := strings.Split(s, "-")
		if len(parts) != 5 && len(parts) != 6 {
			return refuse("not a wheel file name: %s.whl", s)
		}
		py, abi, plat = parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	} else {
		parts := strings.Split(s, "-")
		if len(parts) != 3 {
			return refuse("bad wheel tag: %s", s)
		}
		py, abi, plat = parts[0], parts[1], parts[2]
	}
	pyOK := false
	for _, p := range strings.Split(py, ".") {
		if strings.HasPrefix(p, "py3") || strings.HasPrefix(p, "cp3") {
			pyOK = true
		}
	}
	if !pyOK {
		return refuse("wheel is not for Python 3: %s", s)
	}
	if abi != "none" {
		return refuse("native platform wheel refused (abi %s, platform %s): only pure-Python (none-any) and WASM-packaged (none-%s) requirements run in the sandbox", abi, plat, WasmTag)
	}
	for _, p := range strings.Split(plat, ".") {
		if p != "any" && p != WasmTag {
			return refuse("native platform wheel refused (platform %s): only pure-Python (none-any) and WASM-packaged (none-%s) requirements run in the sandbox", plat, WasmTag)
		}
	}
	return nil
}

// fromFiles validates an extracted wheel (dist-info, RECORD, tags).
func fromFiles(raw map[string][]byte) (*Dist, error) {
	var info string
	for n := range raw {
		top, _, _ := strings.Cut(n, "/")
		if strings.HasSuffix(top, ".dist-info") {
			if info != "" && info != top {
				return nil, refuse("wheel has two .dist-info directories: %s, %s", info, top)
			}
			info = top
		}
	}
	if info == "" {
		return nil, refuse("not a wheel: no .dist-info directory")
	}
	for _, f := range []string{"METADATA", "WHEEL", "RECORD"} {
		if _, ok := raw[info+"/"+f]; !ok {
			return nil, refuse("not a wheel: %s/%s is missing", info, f)
		}
	}
	// RECORD: every file listed with a matching sha256 and size.
	rec := info + "/RECORD"
	rows, err := csv.NewReader(bytes.NewReader(raw[rec])).ReadAll()
	if err != nil {
		return nil, refuse("bad RECORD: %v", err)
	}
	listed := map[string]bool{}
	for _, row := range rows {
		if len(row) == 0 || (len(row) == 1 && row[0] == "") {
			continue
		}
		if len(row) != 3 {
			return nil, refuse("bad RECORD row: %q", strings.Join(row, ","))
		}
		p := row[0]
		listed[p] = true
		b, ok := raw[p]
		if !ok {
			return nil, refuse("RECORD mismatch: %s is listed but not in the wheel", p)
		}
		if p == rec || strings.HasPrefix(p, info+"/RECORD.") {
			continue
		}
		algo, want, ok := strings.Cut(row[1], "=")
		if !ok || algo != "sha256" {
			return nil, refuse("RECORD mismatch: %s has no sha256 hash", p)
		}
		got := sha256.Sum256(b)
		if base64.RawURLEncoding.EncodeToString(got[:]) != strings.TrimRight(want, "=") {
			return nil, refuse("RECORD mismatch: sha256 of %s differs", p)
		}
		if row[2] != "" {
			if sz, err := strconv.Atoi(row[2]); err != nil || sz != len(b) {
				return nil, refuse("RECORD mismatch: size of %s differs", p)
			}
		}
	}
	for p := range raw {
		if !listed[p] && p != rec && !strings.HasPrefix(p, info+"/RECORD.") {
			return nil, refuse("RECORD mismatch: %s is not listed in RECORD", p)
		}
	}
	// WHEEL
	wh := headers(raw[info+"/WHEEL"])
	if len(wh["Tag"]) == 0 {
		return nil, refuse("bad WHEEL: no Tag")
	}
	d := &Dist{Files: map[string][]byte{}, WasmModules: map[string]string{}}
	for _, t := range wh["Tag"] {
		if err := checkTags(t, false); err != nil {
			return nil, err
		}
		if strings.HasSuffix(t, WasmTag) {
			d.Wasm = true
		}
	}
	if len(wh["Root-Is-Purelib"]) > 0 && !strings.EqualFold(wh["Root-Is-Purelib"][0], "true") {
		return nil, refuse("native platform wheel refused: Root-Is-Purelib is not true")
	}
	d.Tag = wh["Tag"][0]
	// METADATA
	md := headers(raw[info+"/METADATA"])
	if len(md["Name"]) == 0 || len(md["Version"]) == 0 {
		return nil, refuse("bad METADATA: Name and Version are required")
	}
	d.Name, d.Version = md["Name"][0], md["Version"][0]
	d.Key = Normalize(d.Name)
	d.Requires = md["Requires-Dist"]
	if s := md["Summary"]; len(s) > 0 {
		d.Summary = s[0]
	}
	if iname, iver, _ := strings.Cut(strings.TrimSuffix(info, ".dist-info"), "-"); Normalize(iname) != Normalize(d.Name) || (iver != d.Version && iver != verEscape(d.Version)) {
		return nil, refuse("bad wheel: %s does not match METADATA (%s %s)", info, d.Name, d.Version)
	}
	data := strings.TrimSuffix(info, ".dist-info") + ".data/"
	for p, b := range raw {
		dst := p
		if rest, ok := strings.CutPrefix(p, data); ok {
			kind, sub, _ := strings.Cut(rest, "/")
			if kind != "purelib" && kind != "platlib" {
				continue // scripts, headers, data: nothing to install in a session
			}
			dst = sub
		}
		if dst == "" {
			continue
		}
		low := strings.ToLower(dst)
		if strings.HasSuffix(low, ".so") || strings.HasSuffix(low, ".pyd") || strings.HasSuffix(low, ".dylib") || strings.HasSuffix(low, ".dll") {
			return nil, refuse("native platform wheel refused: it contains the native library %s", p)
		}
		top, _, _ := strings.Cut(dst, "/")
		if reserved[top] {
			return nil, refuse("wheel file %s would shadow the gears API", p)
		}
		if strings.HasSuffix(low, ".wasm") {
			mod := strings.TrimSuffix(path.Base(dst), path.Ext(dst))
			if prev, dup := d.WasmModules[mod]; dup {
				return nil, refuse("wheel has two wasm modules named %s: %s, %s", mod, prev, dst)
			}
			if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
				return nil, refuse("%s is not a WebAssembly module", p)
			}
			d.WasmModules[mod] = dst
			d.Wasm = true
		}
		d.Files[dst] = b
	}
	if d.Wasm {
		d.Tag = "py3-none-" + WasmTag
	}
	return d, nil
}

// headers parses RFC 822 style headers (METADATA, WHEEL) up to the body.
func headers(b []byte) map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			vs := out[last]
			vs[len(vs)-1] += "\n" + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		out[last] = append(out[last], strings.TrimSpace(v))
	}
	return out
}

// SortedFiles lists a dist's file paths.
func (d *Dist) SortedFiles() []string {
	out := make([]string, 0, len(d.Files))
	for p := range d.Files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
