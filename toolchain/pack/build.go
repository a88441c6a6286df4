package pack

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Spec describes a requirement to build.
type Spec struct {
	Name     string
	Version  string
	Summary  string
	Requires []string          // Requires-Dist lines, e.g. "six>=1.16"
	Files    map[string][]byte // installed path -> content
	// Extra METADATA headers copied verbatim (e.g. from an installed
	// distribution), after Name/Version/Summary/Requires-Dist.
	Extra [][2]string
}

var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Build writes a wheel (deterministic bytes: sorted entries, fixed times).
// A spec with .wasm files becomes a WASM-packaged requirement.
func Build(s Spec) (filename string, data []byte, err error) {
	if s.Name == "" || s.Version == "" {
		return "", nil, fmt.Errorf("pack: name and version are required")
	}
	tag := "py3-none-any"
	for p := range s.Files {
		if strings.HasSuffix(strings.ToLower(p), ".wasm") {
			tag = "py3-none-" + WasmTag
		}
	}
	info := wheelEscape(s.Name) + "-" + verEscape(s.Version) + ".dist-info"
	var md strings.Builder
	fmt.Fprintf(&md, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", s.Name, s.Version)
	if s.Summary != "" {
		fmt.Fprintf(&md, "Summary: %s\n", s.Summary)
	}
	for _, r := range s.Requires {
		fmt.Fprintf(&md, "Requires-Dist: %s\n", r)
	}
	for _, kv := range s.Extra {
		fmt.Fprintf(&md, "%s: %s\n", kv[0], kv[1])
	}
	files := map[string][]byte{}
	for p, b := range s.Files {
		if err := checkPath(p); err != nil {
			return "", nil, err
		}
		files[p] = b
	}
	files[info+"/METADATA"] = []byte(md.String())
	files[info+"/WHEEL"] = []byte("Wheel-Version: 1.0\nGenerator: wasmgears-pack\nRoot-Is-Purelib: true\nTag: " + tag + "\n")
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	var rec bytes.Buffer
	for _, p := range names {
		sum := sha256.Sum256(files[p])
		fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", csvQuote(p), base64.RawURLEncoding.EncodeToString(sum[:]), len(files[p]))
	}
	fmt.Fprintf(&rec, "%s/RECORD,,\n", info)
	files[info+"/RECORD"] = rec.Bytes()
	names = append(names, info+"/RECORD")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range names {
		h := &zip.FileHeader{Name: p, Method: zip.Deflate, Modified: epoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return "", nil, err
		}
		if _, err := w.Write(files[p]); err != nil {
			return "", nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("%s-%s-%s.whl", wheelEscape(s.Name), verEscape(s.Version), tag), buf.Bytes(), nil
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// skipFile: what a source tree or an installed distribution holds that a
// session never needs.
func skipFile(rel string) bool {
	base := path.Base(rel)
	return strings.Contains("/"+rel+"/", "/__pycache__/") || strings.HasSuffix(base, ".pyc") || strings.HasPrefix(base, ".")
}

// FromDir packs a source directory: every file under dir (Python files,
// .wasm modules, data) keeps its relative path.
func FromDir(dir string, s Spec) (string, []byte, error) {
	files := map[string][]byte{}
	for k, v := range s.Files {
		files[k] = v
	}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if skipFile(rel) {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("pack: %s is a symlink", p)
		}
		if de.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	s.Files = files
	return Build(s)
}

// CompileC compiles C sources into one freestanding wasm32 module with
// clang (Debian's clang-19 and wasm-ld-19): no libc, no imports, every
// non-static function exported, no entry point.
func CompileC(clang string, srcs []string, cflags []string) ([]byte, error) {
	if clang == "" {
		clang = "clang-19"
	}
	tmp, err := os.MkdirTemp("", "gears-pack")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out.wasm")
	args := []string{"--target=wasm32", "-O2", "-nostdlib", "-ffreestanding", "-fvisibility=default",
		"-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--allow-undefined-file=/dev/null", "-fuse-ld=lld", "-o", out}
	args = append(args, cflags...)
	args = append(args, srcs...)
	cmd := exec.Command(clang, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pack: %s %s: %v\n%s", clang, strings.Join(args, " "), err, stderr.String())
	}
	return os.ReadFile(out)
}

// FromC compiles srcs into <module>.wasm and packs it with the Python
// files of pyDir ("" = none) under the requirement.
func FromC(clang string, srcs []string, cflags []string, module, pyDir string, s Spec) (string, []byte, error) {
	w, err := CompileC(clang, srcs, cflags)
	if err != nil {
		return "", nil, err
	}
	if s.Files == nil {
		s.Files = map[string][]byte{}
	}
	s.Files[module+".wasm"] = w
	if pyDir != "" {
		return FromDir(pyDir, s)
	}
	return Build(s)
}

// DefaultSiteDirs are where Debian installs Python distributions.
var DefaultSiteDirs = []string{"/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"}

// FromInstalled repacks a distribution installed on this machine (its
// .dist-info or Debian's .egg-info) into a wheel, for offline use.
func FromInstalled(name string, siteDirs []string) (string, []byte, error) {
	if len(siteDirs) == 0 {
		siteDirs = DefaultSiteDirs
	}
	key := Normalize(name)
	for _, dir := range siteDirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			ext := path.Ext(n)
			if ext != ".dist-info" && ext != ".egg-info" {
				continue
			}
			dn, _, _ := strings.Cut(strings.TrimSuffix(n, ext), "-")
			if Normalize(dn) != key {
				continue
			}
			if ext == ".dist-info" {
				return fromDistInfo(dir, n)
			}
			return fromEggInfo(dir, n)
		}
	}
	return "", nil, fmt.Errorf("pack: %s is not installed in %s", name, strings.Join(siteDirs, ", "))
}

func readHeaders(file string) (map[string][]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return headers(b), nil
}

func specFromMeta(md map[string][]string) Spec {
	s := Spec{Files: map[string][]byte{}}
	if v := md["Name"]; len(v) > 0 {
		s.Name = v[0]
	}
	if v := md["Version"]; len(v) > 0 {
		s.Version = v[0]
	}
	if v := md["Summary"]; len(v) > 0 {
		s.Summary = v[0]
	}
	s.Requires = md["Requires-Dist"]
	for _, k := range []string{"Requires-Python", "License", "Home-page"} {
		for _, v := range md[k] {
			s.Extra = append(s.Extra, [2]string{k, v})
		}
	}
	return s
}

func addInstalled(s *Spec, dir, rel string) error {
	if skipFile(rel) {
		return nil
	}
	low := strings.ToLower(rel)
	if strings.HasSuffix(low, ".so") || strings.HasSuffix(low, ".pyd") {
		return fmt.Errorf("pack: %s has a native extension (%s): it cannot run in the sandbox", s.Name, rel)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return filepath.WalkDir(p, func(q string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			r, _ := filepath.Rel(dir, q)
			return addInstalled(s, dir, filepath.ToSlash(r))
		})
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	s.Files[rel] = b
	return nil
}

func fromDistInfo(dir, info string) (string, []byte, error) {
	md, err := readHeaders(filepath.Join(dir, info, "METADATA"))
	if err != nil {
		return "", nil, err
	}
	s := specFromMeta(md)
	rec, err := os.ReadFile(filepath.Join(dir, info, "RECORD"))
	if err != nil {
		return "", nil, fmt.Errorf("pack: %s has no RECORD: %w", info, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(rec))
	for sc.Scan() {
		p, _, _ := strings.Cut(sc.Text(), ",")
		p = strings.Trim(p, `"`)
		if p == "" || strings.HasPrefix(p, info+"/") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			continue
		}
		if err := addInstalled(&s, dir, p); err != nil {
			return "", nil, err
		}
	}
	return Build(s)
}

func fromEggInfo(dir, info string) (string, []byte, error) {
	md, err := readHeaders(filepath.Join(dir, info, "PKG-INFO"))
	if err != nil {
		return "", nil, err
	}
	s := specFromMeta(md)
	if b, err := os.ReadFile(filepath.Join(dir, info, "requires.txt")); err == nil {
		s.Requires = append(s.Requires, eggRequires(string(b))...)
	}
	tops, err := os.ReadFile(filepath.Join(dir, info, "top_level.txt"))
	if err != nil {
		return "", nil, fmt.Errorf("pack: %s has no top_level.txt: %w", info, err)
	}
	for _, t := range strings.Fields(string(tops)) {
		t = strings.ReplaceAll(t, ".", "/")
		switch {
		case isFile(filepath.Join(dir, t+".py")):
			err = addInstalled(&s, dir, t+".py")
		case isDir(filepath.Join(dir, t)):
			err = addInstalled(&s, dir, t)
		default:
			err = fmt.Errorf("pack: %s: top-level %s not found (native extension?)", info, t)
		}
		if err != nil {
			return "", nil, err
		}
	}
	return Build(s)
}

// eggRequires turns requires.txt ([extra] and [:marker] sections) into
// Requires-Dist lines.
func eggRequires(txt string) []string {
	var out []string
	marker := ""
	for _, l := range strings.Split(txt, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			sec := l[1 : len(l)-1]
			extra, m, _ := strings.Cut(sec, ":")
			var conds []string
			if extra != "" {
				conds = append(conds, fmt.Sprintf("extra == %q", extra))
			}
			if m != "" {
				conds = append(conds, "("+m+")")
			}
			marker = strings.Join(conds, " and ")
		default:
			if marker != "" {
				l += "; " + marker
			}
			out = append(out, l)
		}
	}
	return out
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
