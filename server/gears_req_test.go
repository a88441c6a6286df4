package server

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasmgears/wasmgears/toolchain/pack"
)

// wheel builds a pure-Python requirement whose module <name> has V = version.
func wheel(t testing.TB, name, version string, requires ...string) []byte {
	t.Helper()
	mod := strings.ReplaceAll(name, "-", "_")
	_, b, err := pack.Build(pack.Spec{Name: name, Version: version, Requires: requires,
		Files: map[string][]byte{mod + "/__init__.py": []byte(fmt.Sprintf("V = %q\n", version))}})
	must(t, err)
	return b
}

func importReq(t testing.TB, c *conn, data []byte) string {
	t.Helper()
	c.send("RG.PYIMPORTREQ", string(data))
	return c.read()
}

func TestRequirementsImportExportDump(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	a1 := wheel(t, "alpha", "1.0")
	runSteps(t, c, []step{{"rg.pydumpreqs", "[]"}, {"rg.pyexportreq alpha", "!requirement does not exists"}})
	if got := importReq(t, c, a1); got != "OK" {
		t.Fatal(got)
	}
	if got := importReq(t, c, a1); got != "OK" { // the same archive again: no-op
		t.Fatal(got)
	}
	// a different archive for the same name==version is refused
	_, other, _ := pack.Build(pack.Spec{Name: "alpha", Version: "1.0", Files: map[string][]byte{"alpha/__init__.py": []byte("V = 'other'\n")}})
	if got := importReq(t, c, other); !strings.HasPrefix(got, "!Failed deserialize requirement: requirement alpha==1.0 already exists") {
		t.Fatal(got)
	}
	dump := c.do("rg.pydumpreqs")
	for _, want := range []string{`"GearReqVersion" (integer) 1 "Name" "alpha==1.0" "IsDownloaded" "yes" "IsInstalled" "yes" "CompiledOs" "any" "Wheels" ["alpha-1.0-py3-none-any.whl"] "Path" "sha256:`, `"RefCount" (integer) 0 "IsInReqDictionary" "yes"`} {
		if !strings.Contains(dump, want) {
			t.Errorf("pydumpreqs lacks %s:\n%s", want, dump)
		}
	}
	// export round-trips through import (go-redis: binary chunks)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2})
	defer rdb.Close()
	ctx := context.Background()
	v, err := rdb.Do(ctx, "RG.PYEXPORTREQ", "alpha").Slice()
	must(t, err)
	chunks := v[1].([]any)
	var got []byte
	for _, ch := range chunks {
		got = append(got, ch.(string)...)
	}
	if !bytes.Equal(got, a1) {
		t.Fatalf("export differs from the import (%d vs %d bytes)", len(got), len(a1))
	}
	s2 := startServer(t)
	rdb2 := redis.NewClient(&redis.Options{Addr: s2.Addr().String(), Protocol: 2})
	defer rdb2.Close()
	args := []any{"RG.PYIMPORTREQ", "FILENAME", "alpha-1.0-py3-none-any.whl"}
	for _, ch := range chunks {
		args = append(args, ch)
	}
	must(t, rdb2.Do(ctx, args...).Err())
	if v, err := rdb2.Do(ctx, "RG.PYEXPORTREQ", "alpha==1.0").Slice(); err != nil || v[1].([]any)[0].(string) != string(a1) {
		t.Fatal("second server's export differs", err)
	}
}

// zipOf writes a zip from entries (name -> content; a mode may be set).
type zent struct {
	name string
	data []byte
	mode fs.FileMode
}

func zipOf(t testing.TB, ents ...zent) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		must(t, err)
		w.Write(e.data)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// reRecord rewrites RECORD so that it lists every other entry correctly.
func reRecord(ents []zent) []zent {
	var rec strings.Builder
	ri := -1
	for i, e := range ents {
		if strings.HasSuffix(e.name, ".dist-info/RECORD") {
			ri = i
			continue
		}
		sum := sha256.Sum256(e.data)
		fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", e.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(e.data))
	}
	ents[ri].data = []byte(rec.String())
	return ents
}

// withEntry is a valid wheel plus one entry, listed in RECORD.
func withEntry(t testing.TB, e zent) []byte {
	return zipOf(t, reRecord(append(entries(t, wheel(t, "bad", "1.0")), e))...)
}

// patched is a wheel whose entry name has new content (RECORD kept or not).
func patched(t testing.TB, name string, data []byte, fixRecord bool) []byte {
	ents := entries(t, wheel(t, "bad", "1.0"))
	for i := range ents {
		if strings.HasSuffix(ents[i].name, name) {
			ents[i].data = data
		}
	}
	if fixRecord {
		ents = reRecord(ents)
	}
	return zipOf(t, ents...)
}

func TestRequirementsBadUploads(t *testing.T) {
	s := startServer(t, "gears", "RequirementMaxSizeMB 1")
	c := dial(t, s)
	good := wheel(t, "bad", "1.0")
	rnd := make([]byte, 2<<20)
	rand.Read(rnd)
	_, native, _ := pack.Build(pack.Spec{Name: "bad", Version: "1.0", Files: map[string][]byte{"bad/_speedups.cpython-313-x86_64-linux-gnu.so": []byte("\x7fELF")}})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"corrupt", good[:len(good)/2], "corrupt wheel"},
		{"garbage", []byte("not a zip at all"), "corrupt wheel"},
		{"record mismatch", patched(t, "bad/__init__.py", []byte("x = 2\n"), false), "RECORD mismatch: sha256 of bad/__init__.py differs"},
		{"unlisted file", zipOf(t, append(entries(t, good), zent{name: "bad/extra.py", data: []byte("1")})...), "RECORD mismatch: bad/extra.py is not listed in RECORD"},
		{"traversal", withEntry(t, zent{name: "bad/../../etc/passwd", data: []byte("x")}), "path escaping its root"},
		{"absolute", withEntry(t, zent{name: "/etc/passwd", data: []byte("x")}), "absolute path"},
		{"symlink", withEntry(t, zent{name: "bad/link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}), "symlink"},
		{"zip bomb", withEntry(t, zent{name: "bad/bomb.txt", data: make([]byte, 900<<10+(1<<20))}), "too large"},
		{"bomb ratio", withEntry(t, zent{name: "bad/zeros", data: make([]byte, 1000<<10)}), ""},
		{"oversize", withEntry(t, zent{name: "bad/blob", data: rnd}), "requirement too large"},
		{"native file", native, "native platform wheel refused: it contains the native library"},
		{"native tag", patched(t, "WHEEL", []byte("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp313-cp313-linux_x86_64\n"), true), "native platform wheel refused"},
		{"api shadow", withEntry(t, zent{name: "gearsapi.py", data: []byte("x")}), "shadow the gears API"},
	} {
		got := importReq(t, c, tc.data)
		if tc.want == "" {
			if got != "OK" {
				t.Errorf("%s: %s", tc.name, got)
			}
			continue
		}
		if !strings.HasPrefix(got, "!Failed deserialize requirement: ") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// a native-platform file name is refused before reading it
	c.send("RG.PYIMPORTREQ", "FILENAME", "bad-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", string(good))
	if got := c.read(); !strings.Contains(got, "native platform wheel refused") {
		t.Error(got)
	}
	// only the one valid upload (bomb ratio below the limit) is stored
	if got := c.do("rg.pydumpreqs"); strings.Count(got, "GearReqVersion") != 1 {
		t.Errorf("stored: %s", got)
	}
}

// entries lists a zip's entries.
func entries(t testing.TB, w []byte) []zent {
	zr, err := zip.NewReader(bytes.NewReader(w), int64(len(w)))
	must(t, err)
	var out []zent
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		out = append(out, zent{name: f.Name, data: b.Bytes()})
	}
	return out
}

func TestRequirementsResolution(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for _, w := range [][]byte{
		wheel(t, "alpha", "1.0"), wheel(t, "alpha", "1.5"), wheel(t, "alpha", "2.0"),
		wheel(t, "beta", "1.0", "alpha<2"),
		wheel(t, "gamma", "1.0", `alpha>=1.5; python_version >= "3.8"`, `winonly; sys_platform == "win32"`, `testonly; extra == "test"`),
		wheel(t, "delta", "1.0", "nosuchdep>=1"),
	} {
		if got := importReq(t, c, w); got != "OK" {
			t.Fatal(got)
		}
	}
	probe := `import importlib.metadata as md
for n in ('alpha', 'beta', 'gamma', 'winonly'):
    try:
        execute('hset', 'vers', n, md.version(n))
    except md.PackageNotFoundError:
        pass
import alpha
execute('set', 'alpha', alpha.V)`
	for _, tc := range []struct {
		reqs []string
		want string
	}{
		{[]string{"alpha"}, `{alpha: 2.0}`},
		{[]string{"alpha==1.0"}, `{alpha: 1.0}`},
		{[]string{"alpha>=1,<2"}, `{alpha: 1.5}`},
		{[]string{"beta"}, `{alpha: 1.5, beta: 1.0}`},
		{[]string{"gamma", "beta"}, `{alpha: 1.5, beta: 1.0, gamma: 1.0}`},
		{[]string{"Alpha~=1.0"}, `{alpha: 1.5}`},
	} {
		c.do("del vers alpha")
		args := append([]string{"REQUIREMENTS"}, tc.reqs...)
		if got := c.pyexec(probe, args...); got != "OK" {
			t.Fatalf("%v: %s", tc.reqs, got)
		}
		if got := mapReply(c.do("hgetall vers")); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.reqs, got, tc.want)
		}
	}
	for _, tc := range []struct {
		reqs []string
		want string
	}{
		{[]string{"nosuch"}, "missing: nosuch"},
		{[]string{"alpha>5"}, "missing: alpha>5 (available: 2.0, 1.5, 1.0)"},
		{[]string{"delta"}, "missing: nosuchdep>=1 (required by delta==1.0)"},
		{[]string{"beta", "alpha==2.0"}, "missing: "},
		{[]string{"nosuch", "other==1"}, "missing: nosuch, other==1"},
	} {
		got := c.pyexec("x = 1", append([]string{"REQUIREMENTS"}, tc.reqs...)...)
		if !strings.HasPrefix(got, "!Could not satisfy requirements, look at the log file for more information. ") || !strings.Contains(got, tc.want) {
			t.Errorf("%v: got %s, want %s", tc.reqs, got, tc.want)
		}
	}
	// without requirements, nothing is importable
	if got := c.pyexec("import alpha"); !strings.Contains(got, "No module named 'alpha'") {
		t.Error(got)
	}
}

// mapReply renders a flat hgetall reply ["k" "v" ...] as a sorted map.
func mapReply(r string) string {
	f := strings.Fields(strings.NewReplacer("[", "", "]", "", `"`, "").Replace(r))
	m := map[string]string{}
	var keys []string
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
		keys = append(keys, f[i])
	}
	sortStrings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestRequirementsIsolationUpgradeRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "dir", dir)
	c := dial(t, s)
	for _, w := range [][]byte{wheel(t, "alpha", "1.0"), wheel(t, "alpha", "2.0")} {
		if got := importReq(t, c, w); got != "OK" {
			t.Fatal(got)
		}
	}
	gear := func(trig string) string {
		return fmt.Sprintf("import alpha\nGB('CommandReader').map(lambda x: alpha.V).register(trigger=%q)", trig)
	}
	if got := c.pyexec(gear("v1"), "ID", "one", "REQUIREMENTS", "alpha==1.0"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.pyexec(gear("v2"), "ID", "two", "REQUIREMENTS", "alpha>=1"); got != "OK" {
		t.Fatal(got)
	}
	// both versions live side by side, triggered concurrently
	parallel(t, s, 4, func(_ int, cc *conn) {
		for j := 0; j < 10; j++ {
			if got := cc.do("rg.trigger v1"); got != `["1.0"]` {
				t.Errorf("v1: %s", got)
			}
			if got := cc.do("rg.trigger v2"); got != `["2.0"]` {
				t.Errorf("v2: %s", got)
			}
		}
	})
	sessions := c.do("rg.pydumpsessions")
	for _, want := range []string{`"ID" "one"`, `"requirements" ["alpha==1.0"]`, `"requirements" ["alpha>=1"]`} {
		if !strings.Contains(sessions, want) {
			t.Errorf("pydumpsessions lacks %s: %s", want, sessions)
		}
	}
	if v := c.do("rg.pydumpsessions VERBOSE SESSIONS two"); !strings.Contains(v, `"Name" "alpha==2.0"`) {
		t.Errorf("verbose: %s", v)
	}
	if d := c.do("rg.pydumpreqs"); !strings.Contains(d, `"alpha==1.0" "IsDownloaded" "yes" "IsInstalled" "yes" "CompiledOs" "any" "Wheels" ["alpha-1.0-py3-none-any.whl"]`) || strings.Count(d, `"RefCount" (integer) 1`) != 2 {
		t.Errorf("refcounts: %s", d)
	}
	// a newer version arrives: UPGRADE with the same list keeps the pins,
	// FORCE_REINSTALL_REQUIREMENTS resolves again; session one is untouched
	if got := importReq(t, c, wheel(t, "alpha", "3.0")); got != "OK" {
		t.Fatal(got)
	}
	// (new trigger names: an UPGRADE re-registering its own trigger is
	// refused by the registration code today)
	if got := c.pyexec(gear("v2b"), "ID", "two", "UPGRADE", "REQUIREMENTS", "alpha>=1"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"rg.trigger v2b", `["2.0"]`}})
	if got := c.pyexec(gear("v2c"), "ID", "two", "UPGRADE", "FORCE_REINSTALL_REQUIREMENTS", "REQUIREMENTS", "alpha>=1"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"rg.trigger v2c", `["3.0"]`}, {"rg.trigger v1", `["1.0"]`}})

	// restart: requirements and each session's resolved set survive
	s.Shutdown()
	s = startServer(t, "dir", dir)
	c = dial(t, s)
	waitUntil(t, c, "rg.trigger v1", `["1.0"]`)
	waitUntil(t, c, "rg.trigger v2c", `["3.0"]`)
	if d := c.do("rg.pydumpreqs"); strings.Count(d, "GearReqVersion") != 3 {
		t.Errorf("after restart: %s", d)
	}
}

func TestRequirementsFromInstalledDistribution(t *testing.T) {
	name, w, err := pack.FromInstalled("six", nil)
	if err != nil {
		t.Skip("python3-six is not installed:", err)
	}
	s := startServer(t)
	c := dial(t, s)
	c.send("RG.PYIMPORTREQ", "FILENAME", name, string(w))
	if got := c.read(); got != "OK" {
		t.Fatal(got)
	}
	if got := c.pyexec("import six\nexecute('set', 'six', six.__version__ + ' ' + str(six.PY3))", "REQUIREMENTS", "six>=1.10"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"get six", `"1.16.0 True"`}})
}

func checksumWheel(t testing.TB) []byte {
	if _, err := exec.LookPath("clang-19"); err != nil {
		t.Skip("clang-19 is not installed")
	}
	_, w, err := pack.FromC("clang-19", []string{"../examples/wasmreq/checksum.c"}, nil, "checksum", "../examples/wasmreq/py",
		pack.Spec{Name: "checksum", Version: "1.0", Summary: "CRC-32, Adler-32 and base64 in C"})
	must(t, err)
	return w
}

func TestRequirementsWasm(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	if got := importReq(t, c, checksumWheel(t)); got != "OK" {
		t.Fatal(got)
	}
	if d := c.do("rg.pydumpreqs"); !strings.Contains(d, `"CompiledOs" "wasm32-wasi" "Wheels" ["checksum-1.0-py3-none-wasm32_wasi.whl"]`) {
		t.Error(d)
	}
	probe := `import zlib, base64, checksum
from gears import wasm
data = b'hello wasm' * 1000
assert checksum.crc32(data) == zlib.crc32(data), (checksum.crc32(data), zlib.crc32(data))
assert checksum.adler32(data) == zlib.adler32(data)
assert checksum.b64encode(data[:100]) == base64.b64encode(data[:100])
assert checksum.b64encode(b'x' * 9000) == base64.b64encode(b'x' * 9000)  # output grows past the default capacity
assert checksum.add(2, 40) == 42
assert wasm.modules() == ['checksum']
assert 'crc32' in wasm.load('checksum').exports
try:
    wasm.load('nosuch')
    raise Exception('loaded')
except Exception as e:
    assert 'no module "nosuch"' in str(e), e
execute('set', 'ok', '1')`
	if got := c.pyexec(probe, "REQUIREMENTS", "checksum"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"get ok", `"1"`}})
	// the example gear: CRC of every doc:* write
	gear, err := os.ReadFile("../examples/wasmreq/gear.py")
	must(t, err)
	if got := c.pyexec(string(gear), "ID", "crc", "REQUIREMENTS", "checksum"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"set doc:1 hello", "OK"}, {"get crc:doc:1", `"907060870"`}})
	// a module that never returns is stopped by the execution time limit
	runSteps(t, c, []step{{"rg.configset ExecutionTimeLimitMs 300", "[OK]"}})
	start := time.Now()
	if got := c.pyexec("import checksum\nchecksum._m.invoke('spin', 1)", "REQUIREMENTS", "checksum"); !strings.Contains(got, "stopped") {
		t.Error(got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("spin stopped after %v", d)
	}
	runSteps(t, c, []step{{"rg.configset ExecutionTimeLimitMs 0", "[OK]"}})
	if got := c.pyexec("import checksum\nexecute('set', 'add', checksum.add(1, 2))", "REQUIREMENTS", "checksum"); got != "OK" {
		t.Error(got)
	}
	runSteps(t, c, []step{{"get add", `"3"`}})
}
