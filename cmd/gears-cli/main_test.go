package main

// Tests run gears-cli's commands in-process against the real wasmgears
// binary, built once by TestMain (as cmd/wasmgears's tests do).

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	serverBin string // the wasmgears binary built by TestMain
	wasmCache string // compilation cache shared by the test servers
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "gears-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(tmp, "wasmgears")
	wasmCache = filepath.Join(os.TempDir(), "wasmgears-test-wasm-cache")
	build := exec.Command("go", "build", "-o", serverBin, "../wasmgears")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build wasmgears:", err)
		os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// testServer is one running wasmgears process.
type testServer struct {
	Port int
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs wasmgears on a free port with its own data dir until
// the test ends; kv are extra --key value flags. It returns once the
// gears engine answers.
func startServer(t testing.TB, kv ...string) *testServer {
	t.Helper()
	s := &testServer{Port: freePort(t), logs: &bytes.Buffer{}}
	args := append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port), "--dir", t.TempDir(),
		"--wasm-cache-dir", wasmCache, "--metrics-addr", ""}, kv...)
	s.cmd = exec.Command(serverBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", s.logs.String())
		}
	})
	cf := &connFlags{host: "127.0.0.1", port: s.Port}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "--requirepass" {
			cf.password = kv[i+1]
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cn, err := cf.dial()
		if err == nil {
			_, err = cn.do("RG.PYEXECUTE", "1") // waits for the engine
			cn.close()
			if err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *testServer) conn(t testing.TB, extra ...string) []string {
	return append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(s.Port)}, extra...)
}

var cliMu sync.Mutex // stdout/stderr are package variables

// cli runs gears-cli in-process and returns its exit status and output.
func cli(args ...string) (code int, out, errOut string) {
	cliMu.Lock()
	defer cliMu.Unlock()
	var o, e bytes.Buffer
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	code = run(args)
	return code, o.String(), e.String()
}

func writeFile(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := cli("--help")
	for _, want := range []string{"Usage: gears-cli COMMAND", "run ", "export-requirements", "import-requirements", "install-requirements"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--help: %d, lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = cli("run", "--help")
	for _, want := range []string{"Usage: gears-cli run [OPTIONS] SCRIPT [EXTRA_ARGS]...", "--host TEXT", "--port INTEGER",
		"--user TEXT", "--password TEXT", "--requirements TEXT"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("run --help: %d, lacks %q:\n%s", code, want, out)
		}
	}
	if code, _, errOut := cli("nosuch"); code != 2 || !strings.Contains(errOut, `unknown command "nosuch"`) {
		t.Errorf("unknown command: %d %s", code, errOut)
	}
	if code, _, errOut := cli("run"); code != 2 || !strings.Contains(errOut, "missing SCRIPT") {
		t.Errorf("run without script: %d %s", code, errOut)
	}
	if code, _, errOut := cli("run", "--port", strconv.Itoa(freePort(t)), "x.py"); code != 1 || !strings.Contains(errOut, "cannot read the script") {
		t.Errorf("missing file: %d %s", code, errOut)
	}
	script := writeFile(t, "s.py", "GB().run()")
	if code, _, errOut := cli("run", "--host", "127.0.0.1", "--port", strconv.Itoa(freePort(t)), script); code != 1 ||
		!strings.Contains(errOut, "cannot connect to 127.0.0.1:") || !strings.Contains(errOut, "--host and --port") {
		t.Errorf("no server: %d %s", code, errOut)
	}
}

func TestRun(t *testing.T) {
	s := startServer(t)
	ok := writeFile(t, "ok.py", "GB('ShardsIDReader').map(lambda x: 'hello').run()\n")
	// flags after the subcommand, as RedisGears' gears-cli takes them
	code, out, errOut := cli(append([]string{"run"}, s.conn(t, ok)...)...)
	if code != 0 || out != "Results\n-------\n1)\thello\n\n" {
		t.Errorf("run ok: %d %q %q", code, out, errOut)
	}
	bad := writeFile(t, "bad.py", "GB('ShardsIDReader').map(lambda x: 1/0).run()\n")
	code, out, _ = cli(append([]string{"run"}, s.conn(t, bad)...)...)
	if code != 1 || !strings.HasPrefix(out, "Results\n-------\n\nErrors\n------\n1)\t") || !strings.Contains(out, "division by zero") {
		t.Errorf("run with errors: %d %q", code, out)
	}
	syntax := writeFile(t, "syntax.py", "def (:\n")
	code, _, errOut = cli(append([]string{"run"}, s.conn(t, syntax)...)...)
	if code != 1 || !strings.HasPrefix(errOut, "failed running gear function (") || !strings.Contains(errOut, "SyntaxError") {
		t.Errorf("syntax error: %d %q", code, errOut)
	}
	// extra args go to RG.PYEXECUTE; a registration replies OK
	reg := writeFile(t, "reg.py", "GB().foreach(lambda r: execute('incr', 'n')).register(prefix='k:*')\n")
	code, out, errOut = cli(append([]string{"run"}, s.conn(t, reg, "ID", "mysession", "DESCRIPTION", "from the cli")...)...)
	if code != 0 || out != "OK\n" {
		t.Errorf("register: %d %q %q", code, out, errOut)
	}
	cn, err := (&connFlags{host: "127.0.0.1", port: s.Port}).dial()
	if err != nil {
		t.Fatal(err)
	}
	v, err := cn.do("RG.PYDUMPSESSIONS", "SESSIONS", "mysession")
	cn.close()
	if err != nil || !strings.Contains(str(v), "mysession, sessionDescription, from the cli") {
		t.Errorf("session from the cli: %v %s", err, str(v))
	}
	// UNBLOCKING prints the execution id
	code, out, _ = cli(append([]string{"run"}, s.conn(t, ok, "UNBLOCKING")...)...)
	if code != 0 || !strings.HasPrefix(out, "0000000000000000000000000000000000000000-") {
		t.Errorf("unblocking: %d %q", code, out)
	}
}

func TestRunPassword(t *testing.T) {
	s := startServer(t, "--requirepass", "pw")
	ok := writeFile(t, "ok.py", "GB('ShardsIDReader').map(lambda x: 'hi').run()\n")
	code, _, errOut := cli(append([]string{"run"}, s.conn(t, ok)...)...)
	if code != 1 || !strings.Contains(errOut, "needs a password: pass --password") {
		t.Errorf("no password: %d %q", code, errOut)
	}
	code, _, errOut = cli(append([]string{"run"}, s.conn(t, "--password", "nope", ok)...)...)
	if code != 1 || !strings.Contains(errOut, "authentication failed") {
		t.Errorf("wrong password: %d %q", code, errOut)
	}
	code, out, _ := cli(append([]string{"run"}, s.conn(t, "--password", "pw", ok)...)...)
	if code != 0 || !strings.Contains(out, "1)\thi") {
		t.Errorf("password: %d %q", code, out)
	}
	code, out, _ = cli(append([]string{"run"}, s.conn(t, "--user", "default", "--password", "pw", ok)...)...)
	if code != 0 || !strings.Contains(out, "1)\thi") {
		t.Errorf("user and password: %d %q", code, out)
	}
	t.Setenv("REDISCLI_AUTH", "pw")
	if code, _, errOut := cli(append([]string{"run"}, s.conn(t, ok)...)...); code != 0 {
		t.Errorf("REDISCLI_AUTH: %d %q", code, errOut)
	}
}

func TestRunProgressAndRequirementsFlag(t *testing.T) {
	s := startServer(t)
	big := writeFile(t, "big.py", "# "+strings.Repeat("x", 2<<20)+"\nGB('ShardsIDReader').map(lambda x: 'big').run()\n")
	t.Setenv("GEARS_CLI_PROGRESS", "1")
	code, out, errOut := cli(append([]string{"run"}, s.conn(t, big)...)...)
	if code != 0 || !strings.Contains(out, "1)\tbig") || !strings.Contains(errOut, "uploading ") || !strings.Contains(errOut, "100.0%") {
		t.Errorf("progress: %d %q %q", code, out, errOut)
	}
	// --requirements appends REQUIREMENTS and the file's lines (comments
	// and blank lines skipped); whatever the server says is reported
	reqs := writeFile(t, "requirements.txt", "# pinned\n\nnosuchpackage-wasmgears==0.0.1\n")
	ok := writeFile(t, "ok.py", "GB('ShardsIDReader').run()\n")
	code, out, errOut = cli(append([]string{"run"}, s.conn(t, "--requirements", reqs, ok)...)...)
	if code == 0 || !strings.Contains(errOut+out, "nosuchpackage-wasmgears") && !strings.Contains(errOut, "failed running gear function") {
		t.Errorf("requirements: %d %q %q", code, out, errOut)
	}
}

func TestRequirementsCommands(t *testing.T) {
	s := startServer(t)
	// nothing installed: export --all says so
	code, _, errOut := cli(append([]string{"export-requirements"}, s.conn(t, "--all")...)...)
	if code != 1 || !strings.Contains(errOut, "no requirements to export") {
		t.Errorf("export --all: %d %q", code, errOut)
	}
	if code, _, errOut := cli(append([]string{"export-requirements"}, s.conn(t)...)...); code != 2 || !strings.Contains(errOut, "nothing to export") {
		t.Errorf("export without what: %d %q", code, errOut)
	}
	if code, _, errOut := cli(append([]string{"export-requirements"}, s.conn(t, "--registration-id", "nosuch")...)...); code != 1 || !strings.Contains(errOut, "no such registration nosuch") {
		t.Errorf("export --registration-id: %d %q", code, errOut)
	}
	if code, _, errOut := cli(append([]string{"install-requirements"}, s.conn(t)...)...); code != 2 || !strings.Contains(errOut, "no requirements given") {
		t.Errorf("install nothing: %d %q", code, errOut)
	}
	// import: a zip of requirement zips is read and Data.bin sent
	dir := t.TempDir()
	var inner bytes.Buffer
	zw := zip.NewWriter(&inner)
	w, _ := zw.Create(metaDataName)
	w.Write([]byte(`{"Name": "x"}`))
	w, _ = zw.Create(dataBinName)
	w.Write([]byte("serialized"))
	zw.Close()
	outer := filepath.Join(dir, "all.zip")
	f, _ := os.Create(outer)
	zo := zip.NewWriter(f)
	w, _ = zo.Create("x.zip")
	w.Write(inner.Bytes())
	zo.Close()
	f.Close()
	code, out, errOut := cli(append([]string{"import-requirements"}, s.conn(t, "--requirements-path", outer)...)...)
	if code == 0 {
		if !strings.Contains(out, "Requirement x.zip imported successfully") {
			t.Errorf("import: %q", out)
		}
	} else if !strings.Contains(errOut, "failed import requirement x.zip") {
		t.Errorf("import: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(append([]string{"import-requirements"}, s.conn(t, "--requirements-path", outer, "nosuch.zip")...)...); code != 1 ||
		!strings.Contains(errOut, "requirement nosuch.zip could not be found") {
		t.Errorf("import missing: %d %q", code, errOut)
	}
	if code, _, errOut := cli(append([]string{"import-requirements"}, s.conn(t, "--requirements-path", filepath.Join(dir, "none"))...)...); code != 1 ||
		!strings.Contains(errOut, "does not exist") {
		t.Errorf("import bad path: %d %q", code, errOut)
	}
}

// TestBinary runs the built gears-cli once: exit statuses reach the shell.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gears-cli")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s := startServer(t)
	bad := writeFile(t, "bad.py", "GB('ShardsIDReader').map(lambda x: 1/0).run()\n")
	cmd := exec.Command(bin, append([]string{"run"}, s.conn(t, bad)...)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "Errors") {
		t.Errorf("exit status: %v\n%s", err, out)
	}
}
