package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wasmgears/wasmgears/storage"
)

// /metrics: Prometheus metrics on metrics-addr, from the server's own
// registry (base units, _total counters, no key names as labels).

// httpHandlers let other parts (the dashboard, gears metrics) add routes
// to the HTTP listener.
var httpHandlers []func(s *Server, mux *http.ServeMux)

// metricsHooks let other parts register collectors on a server's registry.
var metricsHooks []func(s *Server, reg *prometheus.Registry)

type metrics struct {
	reg      *prometheus.Registry
	calls    *prometheus.CounterVec
	errs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	per      sync.Map // *Command -> *cmdMetrics
	srv      *http.Server
	ln       net.Listener
}

type cmdMetrics struct {
	calls, errs prometheus.Counter
	duration    prometheus.Observer
}

type metricsKey struct{}

// Metrics returns the server's Prometheus registry.
func (s *Server) Metrics() *prometheus.Registry {
	v, _ := s.ext.Load(metricsKey{})
	return v.(*metrics).reg
}

// MetricsAddr is the address /metrics listens on (nil when off).
func (s *Server) MetricsAddr() net.Addr {
	v, _ := s.ext.Load(metricsKey{})
	if m := v.(*metrics); m.ln != nil {
		return m.ln.Addr()
	}
	return nil
}

func (m *metrics) of(cmd *Command) *cmdMetrics {
	if v, ok := m.per.Load(cmd); ok {
		return v.(*cmdMetrics)
	}
	cm := &cmdMetrics{
		calls:    m.calls.WithLabelValues(cmd.Name),
		errs:     m.errs.WithLabelValues(cmd.Name),
		duration: m.duration.WithLabelValues(cmd.Name),
	}
	v, _ := m.per.LoadOrStore(cmd, cm)
	return v.(*cmdMetrics)
}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgears_commands_total",
			Help: "Commands processed, by command."}, []string{"command"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgears_command_errors_total",
			Help: "Commands that replied with an error, by command."}, []string{"command"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wasmgears_command_duration_seconds",
			Help:    "Command execution time, by command.",
			Buckets: []float64{1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5}}, []string{"command"}),
	}
	reg.MustRegister(m.calls, m.errs, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasmgears_connected_clients", Help: "Connected clients."},
			func() float64 { return float64(len(s.Clients())) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wasmgears_connections_received_total", Help: "Connections accepted."},
			func() float64 { return float64(s.stats.totalConns.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasmgears_blocked_clients", Help: "Clients waiting in a blocking command."},
			func() float64 { return float64(s.waits.count()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wasmgears_expired_keys_total", Help: "Keys removed by expiry."},
			func() float64 { return float64(s.db.ExpiredTotal()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasmgears_uptime_seconds", Help: "Seconds since the server started."},
			func() float64 { return time.Since(s.start).Seconds() }),
		&storeCollector{s: s},
	)
	for _, f := range metricsHooks {
		f(s, reg)
	}
	return m
}

// storeCollector reads key counts and Pebble's metrics once per scrape.
type storeCollector struct{ s *Server }

var (
	descKeys       = prometheus.NewDesc("wasmgears_keys", "Keys per logical database.", []string{"db"}, nil)
	descDisk       = prometheus.NewDesc("wasmgears_pebble_disk_usage_bytes", "Disk space used by the Pebble store.", nil, nil)
	descMemtable   = prometheus.NewDesc("wasmgears_pebble_memtable_size_bytes", "Bytes allocated by Pebble memtables.", nil, nil)
	descCompaction = prometheus.NewDesc("wasmgears_pebble_compactions_total", "Pebble compactions.", nil, nil)
	descReadAmp    = prometheus.NewDesc("wasmgears_pebble_read_amplification", "Pebble read amplification (sublevels + levels).", nil, nil)
	descWALBytes   = prometheus.NewDesc("wasmgears_pebble_wal_bytes_written_total", "Bytes written to Pebble's WAL.", nil, nil)
	descPubChans   = prometheus.NewDesc("wasmgears_pubsub_channels", "Channels with at least one subscriber.", nil, nil)
	descPubPats    = prometheus.NewDesc("wasmgears_pubsub_patterns", "Pattern subscriptions.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKeys, descDisk, descMemtable, descCompaction, descReadAmp, descWALBytes, descPubChans, descPubPats} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	select {
	case <-s.shutdownc:
		return // the store may be closing
	default:
	}
	for n := 0; n < storage.NumDBs; n++ {
		if k := s.db.KeyCount(n); k > 0 || n == 0 {
			ch <- prometheus.MustNewConstMetric(descKeys, prometheus.GaugeValue, float64(k), strconv.Itoa(n))
		}
	}
	m := s.db.Metrics()
	ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, float64(m.DiskSpaceUsage()))
	ch <- prometheus.MustNewConstMetric(descMemtable, prometheus.GaugeValue, float64(m.MemTable.Size))
	ch <- prometheus.MustNewConstMetric(descCompaction, prometheus.CounterValue, float64(m.Compact.Count))
	ch <- prometheus.MustNewConstMetric(descReadAmp, prometheus.GaugeValue, float64(m.ReadAmp()))
	ch <- prometheus.MustNewConstMetric(descWALBytes, prometheus.CounterValue, float64(m.WAL.BytesWritten))
	ps := s.pubsub()
	ps.mu.RLock()
	nch, npat := len(ps.channels), len(ps.patterns)
	ps.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(descPubChans, prometheus.GaugeValue, float64(nch))
	ch <- prometheus.MustNewConstMetric(descPubPats, prometheus.GaugeValue, float64(npat))
}

func init() {
	initHooks = append(initHooks, func(s *Server) error {
		m := newMetrics(s)
		s.ext.Store(metricsKey{}, m)
		s.stats.observe = func(cmd *Command, d time.Duration, failed bool) {
			cm := m.of(cmd)
			cm.calls.Inc()
			if failed {
				cm.errs.Inc()
			}
			cm.duration.Observe(d.Seconds())
		}
		addr := s.cfg.Get("metrics-addr")
		if addr == "" {
			return nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.log.Error("metrics listener disabled", "addr", addr, "err", err)
			return nil
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
		for _, f := range httpHandlers {
			f(s, mux)
		}
		m.ln = ln
		m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics server", "err", err)
			}
		}()
		s.log.Info("metrics listening", "addr", ln.Addr().String())
		return nil
	})
	shutdownHooks = append(shutdownHooks, func(s *Server) {
		v, ok := s.ext.Load(metricsKey{})
		if !ok {
			return
		}
		if m := v.(*metrics); m.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			m.srv.Shutdown(ctx)
		}
	})
}
