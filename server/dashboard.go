package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wasmgears/wasmgears/host"
)

// The built-in dashboard, served on the metrics listener (metrics-addr):
// static assets embedded in the binary (uPlot vendored from npm, see
// dashboard/vendor/update.sh) and a small JSON API the page polls. When
// requirepass is set every /api/ route needs the password: HTTP basic
// auth (any user name) or the cookie POST /api/login sets.

//go:embed dashboard/index.html dashboard/app.js dashboard/style.css dashboard/vendor/uPlot.iife.min.js dashboard/vendor/uPlot.min.css
var dashboardFS embed.FS

// SessionRequirements, when set (by the requirements store), lists a
// session's requirements for the dashboard.
var SessionRequirements func(s *host.Session) []string

const dashCookie = "wasmgears_dashboard"

type dashboard struct {
	s   *Server
	key []byte // HMAC key for login cookies (per process)
}

func init() {
	httpHandlers = append(httpHandlers, func(s *Server, mux *http.ServeMux) {
		d := &dashboard{s: s, key: make([]byte, 32)}
		rand.Read(d.key)
		sub, _ := fs.Sub(dashboardFS, "dashboard")
		static := http.FileServerFS(sub)
		mux.Handle("GET /{$}", static)
		for _, p := range []string{"/index.html", "/app.js", "/style.css", "/vendor/"} {
			mux.Handle("GET "+p, static)
		}
		mux.HandleFunc("POST /api/login", d.login)
		mux.HandleFunc("POST /api/logout", d.logout)
		mux.HandleFunc("GET /api/overview", d.auth(d.overview))
		mux.HandleFunc("GET /api/registrations", d.auth(d.gears(d.registrations)))
		mux.HandleFunc("GET /api/sessions", d.auth(d.gears(d.sessions)))
		mux.HandleFunc("GET /api/executions", d.auth(d.gears(d.executions)))
		mux.HandleFunc("GET /api/execution", d.auth(d.gears(d.execution)))
		mux.HandleFunc("POST /api/abort", d.auth(d.gears(d.abort)))
		mux.HandleFunc("POST /api/pause", d.auth(d.gears(d.pause)))
	})
	mime.AddExtensionType(".js", "text/javascript; charset=utf-8")
}

// ---- auth -------------------------------------------------------------

func (d *dashboard) token(pass string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(pass))
	return hex.EncodeToString(m.Sum(nil))
}

func (d *dashboard) authorized(r *http.Request) bool {
	pass := d.s.cfg.Get("requirepass")
	if pass == "" {
		return true
	}
	if _, p, ok := r.BasicAuth(); ok && subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1 {
		return true
	}
	if c, err := r.Cookie(dashCookie); err == nil {
		return hmac.Equal([]byte(c.Value), []byte(d.token(pass)))
	}
	return false
}

func (d *dashboard) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "password required: log in with the server's requirepass",
				"login": true})
			return
		}
		// Actions need a JSON body: a cross-site form cannot send one
		// without a CORS preflight, which this server never grants.
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]any{"error": "send a JSON body (Content-Type: application/json)"})
			return
		}
		h(w, r)
	}
}

func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": `send {"password": "..."} as JSON`})
		return
	}
	pass := d.s.cfg.Get("requirepass")
	if pass != "" && subtle.ConstantTimeCompare([]byte(req.Password), []byte(pass)) != 1 {
		time.Sleep(200 * time.Millisecond) // slow down guessing
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "wrong password", "login": true})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: dashCookie, Value: d.token(pass), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (d *dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: dashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// gears adapts a handler that needs the engine: 503 while it starts.
func (d *dashboard) gears(h func(w http.ResponseWriter, r *http.Request, g *host.Gears)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g := d.s.gearsIfReady()
		if g == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "the gears engine is starting"})
			return
		}
		h(w, r, g)
	}
}

// ---- overview ---------------------------------------------------------

type latencyJSON struct {
	Bounds []float64 `json:"bounds"` // upper bounds, seconds (last: +Inf as -1)
	Counts []uint64  `json:"counts"` // cumulative, every command
}

func (d *dashboard) overview(w http.ResponseWriter, r *http.Request) {
	s := d.s
	out := map[string]any{"time": time.Now().UnixMilli(), "version": Version, "uptime_seconds": int64(time.Since(s.start).Seconds())}
	var errs float64
	var lat latencyJSON
	execs := map[string]float64{outcomeSuccess: 0, outcomeFailed: 0, outcomeAborted: 0}
	fams, _ := s.Metrics().Gather()
	for _, f := range fams {
		switch f.GetName() {
		case "wasmgears_command_errors_total":
			for _, m := range f.Metric {
				errs += m.GetCounter().GetValue()
			}
		case "wasmgears_command_duration_seconds":
			lat = sumHistogram(f.Metric)
		case "wasmgears_executions_total":
			for _, m := range f.Metric {
				execs[label(m, "status")] += m.GetCounter().GetValue()
			}
		case "wasmgears_connected_clients":
			out["connected_clients"] = f.Metric[0].GetGauge().GetValue()
		case "wasmgears_keys":
			var n float64
			for _, m := range f.Metric {
				n += m.GetGauge().GetValue()
			}
			out["keys"] = n
		}
	}
	out["commands_total"] = s.stats.commands.Load()
	out["command_errors_total"] = errs
	out["latency"] = lat
	out["executions_total"] = execs
	if g := s.gearsIfReady(); g != nil {
		out["gears_ready"] = true
		out["sessions"] = len(g.Sessions())
		out["registrations"] = len(g.Registrations())
		out["interpreters_ready"] = g.PoolReady()
		out["interpreters_busy"] = g.BusyInterpreters()
		out["guest_memory_bytes"] = g.MemStats().Curr
		out["profiling"] = g.Config().Int("ProfileExecutions") == 1
	} else {
		out["gears_ready"] = false
	}
	writeJSON(w, http.StatusOK, out)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func sumHistogram(ms []*dto.Metric) latencyJSON {
	var lat latencyJSON
	for _, m := range ms {
		h := m.GetHistogram()
		if lat.Bounds == nil {
			for _, b := range h.Bucket {
				lat.Bounds = append(lat.Bounds, b.GetUpperBound())
			}
			lat.Bounds = append(lat.Bounds, -1)
			lat.Counts = make([]uint64, len(lat.Bounds))
		}
		for i, b := range h.Bucket {
			if i < len(lat.Counts)-1 && !math.IsInf(b.GetUpperBound(), 1) {
				lat.Counts[i] += b.GetCumulativeCount()
			}
		}
		lat.Counts[len(lat.Counts)-1] += h.GetSampleCount()
	}
	return lat
}

// ---- gears lists ------------------------------------------------------

type regJSON struct {
	ID          string   `json:"id"`
	Reader      string   `json:"reader"`
	Mode        string   `json:"mode"`
	Desc        *string  `json:"desc"`
	Prefix      string   `json:"prefix,omitempty"`
	Trigger     string   `json:"trigger,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"`
	KeyTypes    []string `json:"key_types,omitempty"`
	Session     string   `json:"session"`
	Triggered   int64    `json:"triggered"`
	Success     int64    `json:"success"`
	Failures    int64    `json:"failures"`
	Aborted     int64    `json:"aborted"`
	LastRunMS   int64    `json:"last_run_ms"`
	AvgRunMS    float64  `json:"avg_run_ms"`
	LastError   *string  `json:"last_error"`
	Status      string   `json:"status,omitempty"`
	LagMS       int64    `json:"lag_ms"`
	AvgLagMS    int64    `json:"avg_lag_ms"`
	Paused      bool     `json:"paused"`
	Pausable    bool     `json:"pausable"`
	QueueLength int      `json:"queue_length"`
}

func (d *dashboard) registrations(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	out := []regJSON{}
	for _, reg := range g.Registrations() {
		st := reg.Stats()
		status, lag, avgLag := reg.StreamStatus()
		j := regJSON{ID: reg.ID, Reader: reg.Reader, Mode: reg.Mode, Desc: reg.Desc, Prefix: reg.Prefix,
			EventTypes: reg.EventTypes, KeyTypes: reg.KeyTypes, Triggered: st.Triggered, Success: st.Success,
			Failures: st.Failures, Aborted: st.Aborted, LastRunMS: st.LastRunMS, LastError: st.LastError,
			Status: status, LagMS: lag, AvgLagMS: avgLag, Paused: reg.Paused(), Pausable: reg.Reader == "StreamReader",
			QueueLength: reg.QueueLength()}
		if sess := reg.Session(); sess != nil {
			j.Session = sess.ID
		}
		if st.Triggered > 0 {
			j.AvgRunMS = float64(st.TotalRunMS) / float64(st.Triggered)
		}
		j.Trigger = reg.Trigger
		if j.Trigger == "" {
			j.Trigger = reg.Hook
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *dashboard) sessions(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	type sessJSON struct {
		ID            string   `json:"id"`
		Desc          *string  `json:"desc"`
		Created       int64    `json:"created"`
		Registrations []string `json:"registrations"`
		Requirements  []string `json:"requirements"`
		MemoryBytes   int64    `json:"memory_bytes"`
	}
	out := []sessJSON{}
	for _, s := range g.Sessions() {
		j := sessJSON{ID: s.ID, Desc: s.Description, Created: s.Created.UnixMilli(), Registrations: g.SessionRegistrations(s),
			Requirements: []string{}, MemoryBytes: g.SessionMemoryBytes(s)}
		if f := SessionRequirements; f != nil {
			if reqs := f(s); reqs != nil {
				j.Requirements = reqs
			}
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

type stepJSON struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Arg        string  `json:"arg"`
	DurationMS float64 `json:"duration_ms"`
}

type execJSON struct {
	ID         string     `json:"id"`
	Reader     string     `json:"reader"`
	Desc       string     `json:"desc,omitempty"`
	Status     string     `json:"status"`
	Outcome    string     `json:"outcome,omitempty"`
	Registered bool       `json:"registered"`
	Session    string     `json:"session"`
	Started    int64      `json:"started,omitempty"`
	DurationMS float64    `json:"duration_ms"`
	Results    int        `json:"results"`
	Errors     []string   `json:"errors"`
	ReadMS     float64    `json:"read_ms"`
	Steps      []stepJSON `json:"steps,omitempty"`
	Profile    *string    `json:"profile,omitempty"`
	ProfileErr string     `json:"profile_error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func execInfo(e *host.Execution) execJSON {
	n, errs, total := e.Counts()
	j := execJSON{ID: e.ID, Reader: e.Reader, Desc: e.Desc, Status: e.Status(), Registered: e.Registered,
		Session: e.SessionID(), Results: n, Errors: errs, DurationMS: ms(total)}
	if j.Errors == nil {
		j.Errors = []string{}
	}
	if t := e.Started(); !t.IsZero() {
		j.Started = t.UnixMilli()
		if j.Status == host.StatusRunning {
			j.DurationMS = ms(time.Since(t))
		}
	}
	if j.Status == host.StatusDone || j.Status == host.StatusAborted {
		j.Outcome = outcome(e)
	}
	return j
}

func (d *dashboard) executions(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 50
	}
	es := g.Executions()
	out := []execJSON{}
	for i := len(es) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, execInfo(es[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// execution is RG.GETEXECUTION's data plus, with ProfileExecutions=1, the
// session's RG.PYPROFILE STATS text.
func (d *dashboard) execution(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	e := g.Execution(r.URL.Query().Get("id"))
	if e == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "execution plan does not exist"})
		return
	}
	j := execInfo(e)
	read, steps := e.Profile()
	j.ReadMS = ms(read)
	for _, st := range steps {
		j.Steps = append(j.Steps, stepJSON{Type: st.Type, Name: st.Name, Arg: st.Arg, DurationMS: ms(st.Duration)})
	}
	if g.Config().Int("ProfileExecutions") == 1 && j.Session != "" {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		text, err := g.ProfileStats(ctx, j.Session)
		cancel()
		if err != nil {
			j.ProfileErr = err.Error()
		} else {
			j.Profile = &text
		}
	}
	writeJSON(w, http.StatusOK, j)
}

// ---- actions ----------------------------------------------------------

type idReq struct {
	ID     string `json:"id"`
	Paused *bool  `json:"paused"`
}

func readID(w http.ResponseWriter, r *http.Request) (idReq, bool) {
	var req idReq
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.ID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": `send {"id": "..."} as JSON`})
		return req, false
	}
	return req, true
}

// abort is RG.ABORTEXECUTION.
func (d *dashboard) abort(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	req, ok := readID(w, r)
	if !ok {
		return
	}
	e := g.Execution(req.ID)
	if e == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "execution does not exist"})
		return
	}
	e.Abort()
	select {
	case <-e.Done():
	case <-time.After(2 * time.Second):
	}
	d.s.log.Info("dashboard: execution aborted", "execution", e.ID, "from", r.RemoteAddr)
	writeJSON(w, http.StatusOK, execInfo(e))
}

// pause is RG.PAUSEREGISTRATIONS / RG.UNPAUSEREGISTRATIONS.
func (d *dashboard) pause(w http.ResponseWriter, r *http.Request, g *host.Gears) {
	req, ok := readID(w, r)
	if !ok {
		return
	}
	paused := req.Paused == nil || *req.Paused
	if err := g.SetPaused(req.ID, paused); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	d.s.log.Info("dashboard: registration paused", "registration", req.ID, "paused", paused, "from", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": req.ID, "paused": paused})
}

// dashboardAssets lists the embedded files (for tests).
func dashboardAssets() []string {
	var out []string
	fs.WalkDir(dashboardFS, ".", func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			out = append(out, path.Clean(p))
		}
		return nil
	})
	sort.Strings(out)
	return out
}
