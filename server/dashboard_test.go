package server

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"
)

// dashClient is an HTTP client with a cookie jar for the dashboard API.
type dashClient struct {
	t    *testing.T
	base string
	hc   *http.Client
	user string // basic auth password, if set
}

func newDashClient(t *testing.T, s *Server) *dashClient {
	jar, _ := cookiejar.New(nil)
	return &dashClient{t: t, base: "http://" + s.MetricsAddr().String(), hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (d *dashClient) do(method, path, body string, out any) int {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	must(d.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if d.user != "" {
		req.SetBasicAuth("default", d.user)
	}
	resp, err := d.hc.Do(req)
	must(d.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, out); err != nil {
			d.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

func TestDashboardAuth(t *testing.T) {
	s := startServer(t, "metrics-addr", "127.0.0.1:0", "requirepass", "s3cret")
	d := newDashClient(t, s)
	if code := d.do("GET", "/", "", nil); code != 200 {
		t.Errorf("GET /: %d", code)
	}
	for _, p := range []string{"/app.js", "/style.css", "/vendor/uPlot.iife.min.js", "/vendor/uPlot.min.css"} {
		if code := d.do("GET", p, "", nil); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code := d.do("GET", "/vendor/package.json", "", nil); code != 404 {
		t.Errorf("package.json served: %d", code)
	}
	if code := d.do("GET", "/api/overview", "", nil); code != 401 {
		t.Errorf("overview without password: %d", code)
	}
	if code := d.do("POST", "/api/login", `{"password":"nope"}`, nil); code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	if code := d.do("POST", "/api/abort", `{"id":"x"}`, nil); code != 401 {
		t.Errorf("abort without password: %d", code)
	}
	if code := d.do("POST", "/api/login", `{"password":"s3cret"}`, nil); code != 200 {
		t.Errorf("login: %d", code)
	}
	var o map[string]any
	if code := d.do("GET", "/api/overview", "", &o); code != 200 || o["commands_total"] == nil {
		t.Errorf("overview after login: %d %v", code, o)
	}
	// a form post (no JSON) is refused even with the cookie: no CSRF
	req, _ := http.NewRequest("POST", d.base+"/api/abort", strings.NewReader("id=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.hc.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form post: %d", resp.StatusCode)
	}
	d.do("POST", "/api/logout", "{}", nil)
	if code := d.do("GET", "/api/overview", "", nil); code != 401 {
		t.Errorf("after logout: %d", code)
	}
	// basic auth, as curl -u :s3cret
	d2 := newDashClient(t, s)
	d2.user = "s3cret"
	if code := d2.do("GET", "/api/overview", "", nil); code != 200 {
		t.Errorf("basic auth: %d", code)
	}
	// a changed password invalidates the cookie
	d3 := newDashClient(t, s)
	d3.do("POST", "/api/login", `{"password":"s3cret"}`, nil)
	c := dial(t, s)
	runSteps(t, c, []step{{"auth s3cret", "OK"}, {"config set requirepass other", "OK"}})
	if code := d3.do("GET", "/api/overview", "", nil); code != 401 {
		t.Errorf("cookie survived a password change: %d", code)
	}
}

func TestDashboardAPI(t *testing.T) {
	s := startServer(t, "metrics-addr", "127.0.0.1:0")
	d := newDashClient(t, s)
	c := dial(t, s)
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 1", "[OK]"}, {"set k v", "OK"}})
	if got := c.pyexec("GB().map(lambda r: r['key']).run()", "ID", "runner"); got != `[["k"] []]` {
		t.Fatal(got)
	}
	if got := c.pyexec(`GB('StreamReader').foreach(lambda r: execute('incr', 'sn')).register(prefix='s:*')`, "ID", "streams"); got != "OK" {
		t.Fatal(got)
	}
	var regs []regJSON
	d.do("GET", "/api/registrations", "", &regs)
	if len(regs) != 1 || regs[0].Reader != "StreamReader" || regs[0].Prefix != "s:*" || !regs[0].Pausable || regs[0].Paused {
		t.Fatalf("registrations: %+v", regs)
	}
	id := regs[0].ID
	if code := d.do("POST", "/api/pause", `{"id":"`+id+`","paused":true}`, nil); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	if got := c.do("rg.dumpregistrations"); !strings.Contains(got, `"status" "PAUSED"`) {
		t.Errorf("not paused: %s", got)
	}
	d.do("GET", "/api/registrations", "", &regs)
	if !regs[0].Paused {
		t.Errorf("registrations after pause: %+v", regs)
	}
	if code := d.do("POST", "/api/pause", `{"id":"`+id+`","paused":false}`, nil); code != 200 {
		t.Fatalf("unpause: %d", code)
	}
	if got := c.do("rg.dumpregistrations"); !strings.Contains(got, `"status" "OK"`) {
		t.Errorf("not unpaused: %s", got)
	}
	if code := d.do("POST", "/api/pause", `{"id":"nosuch"}`, nil); code != 400 {
		t.Errorf("pause nosuch: %d", code)
	}
	var sess []map[string]any
	d.do("GET", "/api/sessions", "", &sess)
	if len(sess) != 1 || sess[0]["id"] != "streams" || sess[0]["memory_bytes"].(float64) <= 0 { // run()'s session is gone
		t.Errorf("sessions: %v", sess)
	}
	// a long execution: listed as running, aborted from the API (without
	// profiling, which would make a busy loop run out of memory)
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 0", "[OK]"}})
	long := strings.Trim(c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"), `"`)
	var execs []execJSON
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		d.do("GET", "/api/executions", "", &execs)
		if len(execs) > 0 && execs[0].ID == long && execs[0].Status == "running" {
			break
		}
	}
	if len(execs) < 2 || execs[0].ID != long || execs[0].Status != "running" {
		t.Fatalf("executions: %+v", execs)
	}
	var ab execJSON
	if code := d.do("POST", "/api/abort", `{"id":"`+long+`"}`, &ab); code != 200 || ab.Status != "aborted" {
		t.Fatalf("abort: %d %+v", code, ab)
	}
	if got := c.do("rg.getresults " + long); got != `[[] ["Execution was aborted"]]` {
		t.Errorf("after abort: %s", got)
	}
	var ex execJSON
	d.do("GET", "/api/execution?id="+execs[1].ID, "", &ex)
	if ex.Status != "done" || ex.Results != 1 || len(ex.Steps) < 2 || ex.Steps[0].Type != "reader" || ex.Steps[0].DurationMS <= 0 ||
		ex.Profile != nil {
		t.Errorf("execution detail: %+v", ex) // its session ended with the run: no profile
	}
	// a registration's execution: its session lives on, with a profile
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 1", "[OK]"}, {"xadd s:1 * f v", `"1*`}})
	waitUntil(t, c, "get sn", `"1"`)
	d.do("GET", "/api/executions", "", &execs)
	if !execs[0].Registered || execs[0].Session != "streams" {
		t.Fatalf("executions: %+v", execs)
	}
	d.do("GET", "/api/execution?id="+execs[0].ID, "", &ex)
	if ex.Profile == nil || !strings.Contains(*ex.Profile, "function calls") {
		t.Errorf("registered execution detail: %+v", ex)
	}
	if code := d.do("GET", "/api/execution?id=nosuch", "", nil); code != 404 {
		t.Errorf("execution nosuch: %d", code)
	}
	var o struct {
		Commands   int64              `json:"commands_total"`
		Executions map[string]float64 `json:"executions_total"`
		Latency    latencyJSON        `json:"latency"`
		Profiling  bool               `json:"profiling"`
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d.do("GET", "/api/overview", "", &o)
		if o.Executions["aborted"] == 1 {
			break
		}
	}
	if o.Commands < 5 || o.Executions["success"] < 1 || o.Executions["aborted"] != 1 || !o.Profiling ||
		len(o.Latency.Bounds) != len(o.Latency.Counts) || o.Latency.Counts[len(o.Latency.Counts)-1] < 5 {
		t.Errorf("overview: %+v", o)
	}
}

// TestDashboardVendored checks the embedded uPlot against the committed
// package-lock.json (see dashboard/vendor/update.sh).
func TestDashboardVendored(t *testing.T) {
	var lock struct {
		Packages map[string]struct{ Version, Integrity string } `json:"packages"`
	}
	raw, err := os.ReadFile("dashboard/vendor/package-lock.json")
	must(t, err)
	must(t, json.Unmarshal(raw, &lock))
	pkg := lock.Packages["node_modules/uplot"]
	if pkg.Version == "" || !strings.HasPrefix(pkg.Integrity, "sha512-") {
		t.Fatalf("package-lock.json has no uplot: %+v", lock)
	}
	f, err := os.Open("dashboard/vendor/uplot.txt")
	must(t, err)
	defer f.Close()
	rec := map[string]string{}
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 3 && fs[0] == "sha256":
			sums[fs[2]] = fs[1]
		case len(fs) == 2:
			rec[fs[0]] = fs[1]
		}
	}
	if rec["version"] != pkg.Version || rec["integrity"] != pkg.Integrity {
		t.Errorf("vendored uplot %s (%s) but the lock has %s (%s): run server/dashboard/vendor/update.sh",
			rec["version"], rec["integrity"], pkg.Version, pkg.Integrity)
	}
	for _, name := range []string{"uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"} {
		b, err := os.ReadFile("dashboard/vendor/" + name)
		must(t, err)
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != sums[name] {
			t.Errorf("%s was changed after vendoring: run server/dashboard/vendor/update.sh", name)
		}
	}
	js, _ := os.ReadFile("dashboard/vendor/uPlot.iife.min.js")
	if !strings.Contains(string(js[:min(200, len(js))]), "(v"+pkg.Version+")") {
		t.Errorf("uPlot.iife.min.js header is not version %s", pkg.Version)
	}
	var pj struct{ Dependencies map[string]string }
	raw, _ = os.ReadFile("dashboard/vendor/package.json")
	must(t, json.Unmarshal(raw, &pj))
	if pj.Dependencies["uplot"] != pkg.Version {
		t.Errorf("package.json pins uplot %s, the lock %s", pj.Dependencies["uplot"], pkg.Version)
	}
	if a := dashboardAssets(); len(a) != 5 {
		t.Errorf("embedded assets: %v", a)
	}
}
