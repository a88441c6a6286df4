package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (scripts/test-deps.sh installs it).
func chromiumPath() string {
	if p := os.Getenv("WASMGEARS_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// artifactsDir is where the browser test leaves its screenshot:
// $WASMGEARS_ARTIFACTS or testdata/artifacts (ignored by git).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("WASMGEARS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	must(t, os.MkdirAll(dir, 0o755))
	return dir
}

// TestDashboardBrowser drives the dashboard in headless Chromium: log in,
// watch live numbers move under load, open an execution, abort a running
// one and pause/unpause a stream registration from the page.
func TestDashboardBrowser(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("chromium is not installed (apt-get install chromium, or run scripts/test-deps.sh): skipping the browser test")
	}
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	s := startServer(t, "metrics-addr", "127.0.0.1:0", "requirepass", "pw")
	c := dial(t, s)
	runSteps(t, c, []step{{"auth pw", "OK"}})
	if got := c.pyexec(`GB('StreamReader').foreach(lambda r: execute('incr', 'sn')).register(prefix='s:*')`, "ID", "streams"); got != "OK" {
		t.Fatal(got)
	}
	regID := strings.Trim(strings.Split(strings.TrimPrefix(c.do("rg.dumpregistrations"), `[["id" "`), `"`)[0], `"`)
	long := strings.Trim(c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"), `"`)
	t.Cleanup(func() { // before the server's shutdown, also when the test fails early
		if g := s.gearsIfReady(); g != nil {
			if e := g.Execution(long); e != nil {
				e.Abort()
				<-e.Done()
			}
		}
	})

	// load: commands and stream executions until the test ends
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	load := dial(t, s)
	load.do("auth pw")
	go func() {
		defer close(loadDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			load.do("set k v")
			if i%20 == 0 {
				load.do("xadd s:1 * f v")
			}
		}
	}()
	defer func() { close(stop); <-loadDone }()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	base := "http://" + s.MetricsAddr().String() + "/"
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		var err error
		for try := 0; try < 3; try++ { // a poll may replace a row between query and click
			if err = chromedp.Do(ctx, actions...); err == nil || !strings.Contains(err.Error(), "No node") {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// the page asks for the password
	run("open", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	run("wrong password", chromedp.SendKeys(chromedp.CSS("#password"), "nope"), chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
	waitText(t, ctx, "#login-error", func(s string) bool { return s == "wrong password" })
	run("log in", chromedp.SetValue(chromedp.CSS("#password"), "pw"), chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#main")))

	// live numbers change
	first := waitText(t, ctx, "#cmd-total", func(s string) bool { return s != "–" })
	waitText(t, ctx, "#cmd-total", func(s string) bool { return s != first })
	waitText(t, ctx, "#cmd-rate", func(s string) bool { return s != "–" && s != "0" })
	waitText(t, ctx, "#latency", func(s string) bool { return strings.HasSuffix(s, " ms") })
	waitText(t, ctx, "#exec-total", func(s string) bool { return s != "–" && s != "0" })
	waitText(t, ctx, "#sessions tbody", func(s string) bool { return strings.Contains(s, "streams") })

	// abort the running execution from its row
	abortSel := `button[data-action="abort"][data-id="` + long + `"]`
	run("abort", chromedp.WaitVisible(chromedp.CSS(abortSel)), clickNow(abortSel))
	waitUntil(t, c, "rg.getresults "+long, `[[] ["Execution was aborted"]]`)
	// profiling from now on (a profiled busy loop would run out of memory)
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 1", "[OK]"}})

	// pause and unpause the stream registration
	pauseSel := `button[data-action="pause"][data-id="` + regID + `"]`
	run("pause", chromedp.WaitVisible(chromedp.CSS(pauseSel)), clickNow(pauseSel))
	waitFor(t, func() bool { return strings.Contains(c.do("rg.dumpregistrations"), `"status" "PAUSED"`) }, "registration paused")
	regRow := `tr[data-reg="` + regID + `"] .reg-status`
	waitText(t, ctx, regRow, func(s string) bool { return s == "PAUSED" })
	unpauseSel := `button[data-action="unpause"][data-id="` + regID + `"]`
	run("unpause", chromedp.WaitVisible(chromedp.CSS(unpauseSel)), clickNow(unpauseSel))
	waitFor(t, func() bool { return strings.Contains(c.do("rg.dumpregistrations"), `"status" "OK"`) }, "registration unpaused")
	waitText(t, ctx, regRow, func(s string) bool { return s == "OK" })

	// drill down into the aborted execution, then a registered one
	row := `tr[data-exec="` + long + `"]`
	run("open execution", chromedp.WaitVisible(chromedp.CSS(row)), clickNow(row), chromedp.WaitVisible(chromedp.CSS("#detail")))
	waitText(t, ctx, "#detail-errors", func(s string) bool { return strings.Contains(s, "Execution was aborted") })
	run("open registered execution", clickNow(`#executions tbody tr.clickable:first-child`))
	waitText(t, ctx, "#detail-info", func(s string) bool { return strings.Contains(s, "StreamReader") && strings.Contains(s, "streams") })
	waitText(t, ctx, "#detail-profile", func(s string) bool { return strings.Contains(s, "function calls") })

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(artifactsDir(t), "dashboard.png")
	must(t, os.WriteFile(out, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}

// waitText polls an element's text until ok accepts it, and returns it.
func waitText(t *testing.T, ctx context.Context, sel string, ok func(string) bool) string {
	t.Helper()
	var text string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		text, err = chromedp.Run(qctx, chromedp.TextContent(chromedp.CSS(sel)))
		cancel()
		if err != nil && !strings.Contains(err.Error(), "No node") {
			t.Fatalf("text of %s: %v", sel, err)
		}
		if err == nil && ok(text) {
			return text
		}
	}
	t.Fatalf("%s: text %q never matched", sel, text)
	return ""
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for: %s", what)
}

// clickNow clicks the element matching sel inside the page in one step: the
// live tables are re-rendered every second, so a node found by a separate
// query may be gone by the time a CDP click reaches it.
func clickNow(sel string) chromedp.Action[chromedp.Void] {
	eval := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		ok, err := eval(ctx, t)
		if err == nil && !ok {
			err = fmt.Errorf("no element %s to click", sel)
		}
		return chromedp.Void{}, err
	}
}
