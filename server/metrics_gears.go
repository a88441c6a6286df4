package server

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgears/wasmgears/host"
)

// Gears metrics: executions, registrations, sessions, interpreters and
// memory. Registration ids are labels (bounded by what is registered); key
// names never are.

// RequirementStoreBytes, when set (by the requirements store), reports
// the bytes the installed requirements take; wasmgears_requirements_store_bytes
// is 0 until then.
var RequirementStoreBytes func(s *Server) int64

// gearsIfReady returns the engine when it has started, without waiting.
func (s *Server) gearsIfReady() *host.Gears {
	v, ok := s.ext.Load(gearsKey{})
	if !ok {
		return nil
	}
	st := v.(*gearsState)
	select {
	case <-st.ready:
		return st.g
	default:
		return nil
	}
}

// Execution outcomes (the status label of wasmgears_executions_total).
const (
	outcomeSuccess = "success" // done without errors
	outcomeFailed  = "failed"  // done with errors
	outcomeAborted = "aborted"
)

func outcome(e *host.Execution) string {
	if e.Status() == host.StatusAborted {
		return outcomeAborted
	}
	if _, errs, _ := e.Counts(); len(errs) > 0 {
		return outcomeFailed
	}
	return outcomeSuccess
}

// execTracker counts finished executions. The engine keeps executions in
// a capped list; the tracker follows it by sequence number (ExecutionsAfter
// walks only the new tail) and keeps the unfinished ones it has seen until
// they finish, so an execution is counted once even when MaxExecutions
// pushes it out of the list. Executions created and pushed out between two
// polls (more than MaxExecutions in 250 ms) are not seen.
type execTracker struct {
	s        *Server
	mu       sync.Mutex
	seq      int64
	pending  map[*host.Execution]struct{}
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newExecTracker(s *Server) *execTracker {
	return &execTracker{
		s: s, seq: -1, pending: map[*host.Execution]struct{}{},
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgears_executions_total",
			Help: "Finished gears executions, by reader and status (success, failed: done with errors, aborted)."},
			[]string{"reader", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wasmgears_execution_duration_seconds",
			Help:    "Gears execution run time, by reader.",
			Buckets: []float64{1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
			[]string{"reader"}),
	}
}

func (t *execTracker) poll() {
	g := t.s.gearsIfReady()
	if g == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var fresh []*host.Execution
	fresh, t.seq = g.ExecutionsAfter(t.seq)
	for _, e := range fresh {
		t.pending[e] = struct{}{}
	}
	for e := range t.pending {
		select {
		case <-e.Done():
		default:
			continue
		}
		delete(t.pending, e)
		_, _, d := e.Counts()
		t.total.WithLabelValues(e.Reader, outcome(e)).Inc()
		t.duration.WithLabelValues(e.Reader).Observe(d.Seconds())
	}
}

func (t *execTracker) run() {
	tk := time.NewTicker(250 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-t.s.shutdownc:
			return
		case <-tk.C:
			t.poll()
		}
	}
}

// gearsCollector reads the engine's state once per scrape.
type gearsCollector struct {
	s *Server
	t *execTracker
}

var (
	descGearsReady  = prometheus.NewDesc("wasmgears_gears_ready", "1 when the gears engine has started.", nil, nil)
	descExecs       = prometheus.NewDesc("wasmgears_executions", "Executions in the executions list (RG.DUMPEXECUTIONS), by reader and status.", []string{"reader", "status"}, nil)
	descRegs        = prometheus.NewDesc("wasmgears_registrations", "Registrations, by reader and mode.", []string{"reader", "mode"}, nil)
	descRegTrig     = prometheus.NewDesc("wasmgears_registration_triggered_total", "Times a registration fired (reset by RG.CLEARREGISTRATIONSSTATS).", []string{"registration", "reader"}, nil)
	descRegOK       = prometheus.NewDesc("wasmgears_registration_success_total", "A registration's executions that succeeded.", []string{"registration", "reader"}, nil)
	descRegFail     = prometheus.NewDesc("wasmgears_registration_failures_total", "A registration's executions that ended with errors.", []string{"registration", "reader"}, nil)
	descRegAbort    = prometheus.NewDesc("wasmgears_registration_aborted_total", "A registration's executions that were aborted.", []string{"registration", "reader"}, nil)
	descRegLag      = prometheus.NewDesc("wasmgears_registration_stream_lag_seconds", "A stream registration's last estimated lag.", []string{"registration"}, nil)
	descRegPaused   = prometheus.NewDesc("wasmgears_registration_paused", "1 when a stream registration is paused.", []string{"registration"}, nil)
	descRegQueue    = prometheus.NewDesc("wasmgears_registration_queue_length", "Records waiting for an async registration.", []string{"registration"}, nil)
	descSessions    = prometheus.NewDesc("wasmgears_sessions", "Live Python sessions.", nil, nil)
	descSessCreated = prometheus.NewDesc("wasmgears_sessions_created_total", "Python sessions created.", nil, nil)
	descInterp      = prometheus.NewDesc("wasmgears_interpreters", "Interpreters: ready in the pool, or busy running an execution.", []string{"state"}, nil)
	descGuestMem    = prometheus.NewDesc("wasmgears_guest_memory_bytes", "Linear memory of the live sessions' interpreters.", nil, nil)
	descGuestPeak   = prometheus.NewDesc("wasmgears_guest_memory_peak_bytes", "Largest interpreter linear memory seen.", nil, nil)
	descReqBytes    = prometheus.NewDesc("wasmgears_requirements_store_bytes", "Bytes taken by the stored Python requirements.", nil, nil)
)

func (c *gearsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGearsReady, descExecs, descRegs, descRegTrig, descRegOK, descRegFail,
		descRegAbort, descRegLag, descRegPaused, descRegQueue, descSessions, descSessCreated, descInterp,
		descGuestMem, descGuestPeak, descReqBytes} {
		ch <- d
	}
	c.t.total.Describe(ch)
	c.t.duration.Describe(ch)
}

func (c *gearsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	var reqBytes int64
	if f := RequirementStoreBytes; f != nil {
		reqBytes = f(s)
	}
	ch <- prometheus.MustNewConstMetric(descReqBytes, prometheus.GaugeValue, float64(reqBytes))
	g := s.gearsIfReady()
	ready := 0.0
	if g != nil {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(descGearsReady, prometheus.GaugeValue, ready)
	c.t.poll()
	c.t.total.Collect(ch)
	c.t.duration.Collect(ch)
	if g == nil {
		return
	}
	type rs struct{ reader, status string }
	execs := map[rs]int{}
	busy := map[string]bool{}
	for _, e := range g.Executions() {
		st := e.Status()
		execs[rs{e.Reader, st}]++
		if st == host.StatusRunning {
			busy[e.SessionID()] = true
		}
	}
	for k, n := range execs {
		ch <- prometheus.MustNewConstMetric(descExecs, prometheus.GaugeValue, float64(n), k.reader, k.status)
	}
	regs := map[rs]int{}
	for _, r := range g.Registrations() {
		regs[rs{r.Reader, r.Mode}]++
		st := r.Stats()
		ch <- prometheus.MustNewConstMetric(descRegTrig, prometheus.CounterValue, float64(st.Triggered), r.ID, r.Reader)
		ch <- prometheus.MustNewConstMetric(descRegOK, prometheus.CounterValue, float64(st.Success), r.ID, r.Reader)
		ch <- prometheus.MustNewConstMetric(descRegFail, prometheus.CounterValue, float64(st.Failures), r.ID, r.Reader)
		ch <- prometheus.MustNewConstMetric(descRegAbort, prometheus.CounterValue, float64(st.Aborted), r.ID, r.Reader)
		if r.Reader == "StreamReader" {
			_, lag, _ := r.StreamStatus()
			ch <- prometheus.MustNewConstMetric(descRegLag, prometheus.GaugeValue, float64(lag)/1000, r.ID)
			paused := 0.0
			if r.Paused() {
				paused = 1
			}
			ch <- prometheus.MustNewConstMetric(descRegPaused, prometheus.GaugeValue, paused, r.ID)
		}
		if r.Mode != "sync" {
			ch <- prometheus.MustNewConstMetric(descRegQueue, prometheus.GaugeValue, float64(r.QueueLength()), r.ID)
		}
	}
	for k, n := range regs {
		ch <- prometheus.MustNewConstMetric(descRegs, prometheus.GaugeValue, float64(n), k.reader, k.status)
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(len(g.Sessions())))
	ch <- prometheus.MustNewConstMetric(descSessCreated, prometheus.CounterValue, float64(g.StatsRef().SessionsCreated.Load()))
	ch <- prometheus.MustNewConstMetric(descInterp, prometheus.GaugeValue, float64(g.PoolReady()), "ready")
	ch <- prometheus.MustNewConstMetric(descInterp, prometheus.GaugeValue, float64(len(busy)), "busy")
	m := g.MemStats()
	ch <- prometheus.MustNewConstMetric(descGuestMem, prometheus.GaugeValue, float64(m.Curr))
	ch <- prometheus.MustNewConstMetric(descGuestPeak, prometheus.GaugeValue, float64(m.Peak))
}

type execTrackerKey struct{}

func init() {
	metricsHooks = append(metricsHooks, func(s *Server, reg *prometheus.Registry) {
		t := newExecTracker(s)
		s.ext.Store(execTrackerKey{}, t)
		reg.MustRegister(&gearsCollector{s: s, t: t})
		go t.run()
	})
}
