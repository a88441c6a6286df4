package main

// Integration tests: they build the real wasmgears binary once per test run
// (TestMain), start it on a free loopback port with its own --dir and drive
// it with go-redis and redis-cli (Debian redis-tools).
//
// WASMGEARS_IT_TARGET=redis-server runs the same tests against Debian's
// redis-server instead, which checks the tests' own expectations against
// the reference implementation.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	binPath      string // the wasmgears binary built by TestMain
	wasmCache    string // compilation cache shared by the test run's servers
	againstRedis = os.Getenv("WASMGEARS_IT_TARGET") == "redis-server"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "wasmgears-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if againstRedis {
		if binPath, err = exec.LookPath("redis-server"); err != nil {
			fmt.Fprintln(os.Stderr, "WASMGEARS_IT_TARGET=redis-server:", err)
			return 1
		}
		return m.Run()
	}
	binPath = filepath.Join(tmp, "wasmgears")
	wasmCache = filepath.Join(tmp, "wasm-cache") // compile the guest once, not per server
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race") // the server under test gets the race detector too
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		return 1
	}
	warmCache(tmp)
	return m.Run()
}

// warmCache starts the binary once so that wazero's compilation cache
// holds the compiled interpreter before the tests start their servers:
// compiling takes seconds (tens of seconds with -race), and a server that is
// told to shut down while compiling finishes the compilation first.
func warmCache(tmp string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	logs := &syncBuffer{}
	cmd := exec.Command(binPath, "--port", port, "--dir", filepath.Join(tmp, "warm"),
		"--wasm-cache-dir", wasmCache, "--metrics-addr", "")
	cmd.Stdout, cmd.Stderr = logs, logs
	if cmd.Start() != nil {
		return
	}
	limit := time.Minute
	if raceEnabled {
		limit = 5 * time.Minute
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out := logs.String(); strings.Contains(out, "gears engine") || strings.Contains(out, "wasmgears:") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
	}
}

// proc is one running wasmgears process.
type proc struct {
	t    testing.TB
	Port int
	Dir  string
	args []string // arguments except --port/--dir (which are added)
	conf string   // config file given as first argument, if any

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its Wait error
}

// start runs the binary with its own data dir on a free port. kv are
// extra --key value flags.
func start(t testing.TB, kv ...string) *proc {
	t.Helper()
	s := &proc{t: t, Dir: t.TempDir(), args: kv}
	s.boot(true)
	t.Cleanup(func() {
		s.stopHard()
		if t.Failed() {
			s.dumpLogs()
		}
	})
	return s
}

// startWithConfig starts the binary with a redis.conf-style file as first
// argument; body gets port and dir lines prepended.
func startWithConfig(t testing.TB, body string) *proc {
	t.Helper()
	s := &proc{t: t, Dir: t.TempDir()}
	s.conf = filepath.Join(t.TempDir(), "redis.conf")
	s.Port = freePort(t)
	writeConf := func() {
		conf := fmt.Sprintf("# test config\nport %d\ndir %q\n%s", s.Port, s.Dir, body)
		if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConf()
	s.boot(false)
	t.Cleanup(func() {
		s.stopHard()
		if t.Failed() {
			s.dumpLogs()
		}
	})
	return s
}

func (s *proc) dumpLogs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs != nil {
		s.t.Logf("server output:\n%s", s.logs.String())
	}
}

// Addr is host:port of the server.
func (s *proc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// PortS is the port as a string, for redis-cli.
func (s *proc) PortS() string { return strconv.Itoa(s.Port) }

func (s *proc) argv() []string {
	var a []string
	if s.conf != "" {
		a = append(a, s.conf)
	} else {
		a = append(a, "--port", s.PortS(), "--dir", s.Dir)
	}
	if againstRedis {
		a = append(a, "--save", "", "--appendonly", "yes", "--bind", "127.0.0.1")
		for i := 0; i+1 < len(s.args); i += 2 {
			if s.args[i] != "--metrics-addr" {
				a = append(a, s.args[i], s.args[i+1])
			}
		}
		return a
	}
	// No fixed metrics port: parallel servers would collide (a test may
	// still pass its own --metrics-addr; the last flag wins).
	a = append(a, "--wasm-cache-dir", wasmCache, "--metrics-addr", "")
	return append(a, s.args...)
}

// boot starts the process and waits until it answers PING. With newPort it
// picks a free port first (and retries on a port race).
func (s *proc) boot(newPort bool) {
	s.t.Helper()
	for attempt := 0; ; attempt++ {
		if newPort {
			s.Port = freePort(s.t)
		}
		s.spawn()
		err := s.waitReady(30 * time.Second)
		if err == nil {
			return
		}
		s.stopHard()
		if newPort && attempt < 3 && strings.Contains(s.logs.String(), "address already in use") {
			continue
		}
		s.dumpLogs()
		s.t.Fatalf("server did not come up: %v", err)
	}
}

func (s *proc) spawn() {
	s.t.Helper()
	cmd := exec.Command(binPath, s.argv()...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.logs, s.done, s.err = cmd, logs, done, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(done)
	}()
}

// waitReady polls with PING until the server answers (PONG, or NOAUTH when
// a password is required).
func (s *proc) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("process exited: %v", s.exitErr())
		default:
		}
		line, err := rawCommand(s.Addr(), "PING")
		if err == nil && (line == "+PONG" || strings.HasPrefix(line, "-NOAUTH")) {
			return nil
		}
		if err == nil {
			err = errors.New(line)
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %v", d, last)
}

func (s *proc) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// waitExit waits for the process to end and returns its Wait error.
func (s *proc) waitExit(d time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.exitErr()
	case <-time.After(d):
		s.t.Fatalf("server still running after %v", d)
		return nil
	}
}

// kill ends the process with SIGKILL (no chance to flush anything).
func (s *proc) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	<-s.done
}

// term sends SIGTERM and returns the exit error (nil = status 0).
func (s *proc) term() error {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	return s.waitExit(30 * time.Second)
}

func (s *proc) stopHard() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
	default:
		cmd.Process.Kill()
		<-done
	}
}

// restart starts a new process on the same port, dir and arguments.
func (s *proc) restart() {
	s.t.Helper()
	s.stopHard()
	s.boot(false)
}

// client returns a go-redis client speaking proto (2 or 3); it is closed
// when the test ends.
func (s *proc) client(proto int, opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{
		Addr: s.Addr(), Protocol: proto,
		DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		MaxRetries: -1, DisableIdentity: true,
	}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// cli runs redis-cli against the server and returns its trimmed output.
func (s *proc) cli(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.cliIn(t, nil, args...)
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return out
}

func (s *proc) cliIn(t testing.TB, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	needCLI(t)
	cmd := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", s.PortS()}, args...)...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

func needCLI(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (scripts/test-deps.sh installs Debian's redis-tools)")
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// rawCommand sends one inline-free RESP command on a new connection and
// returns the first reply line (without CRLF).
func rawCommand(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(encodeCommand(args...)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func encodeCommand(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// syncBuffer collects process output from the exec goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// unknown reports whether err is Redis' unknown-command error.
func unknown(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "ERR unknown command")
}

// require skips the test when the server does not implement the command
// named by args[0]: it runs args and skips on "ERR unknown command". It
// returns the command's result otherwise.
func require(t testing.TB, c *redis.Client, args ...any) *redis.Cmd {
	t.Helper()
	r := c.Do(ctxT(t), args...)
	if unknown(r.Err()) {
		t.Skipf("%v not implemented yet: %v", args[0], r.Err())
	}
	return r
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errIs checks err's text starts with prefix.
func errIs(t testing.TB, what string, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("%s: err = %v, want %q...", what, err, prefix)
	}
}

func writeFile(p, body string) error { return os.WriteFile(p, []byte(body), 0o644) }
