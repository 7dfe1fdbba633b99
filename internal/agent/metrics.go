package agent

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the agent's Prometheus metrics, on a registry of their own
// (as serve's, internal/web/metrics.go), served on --metrics-listen.
type metrics struct {
	reg         *prometheus.Registry
	version     prometheus.Gauge
	sessions    prometheus.Gauge
	kills       prometheus.Counter
	applyErrors prometheus.Counter
	crlNext     prometheus.Gauge

	mu       sync.Mutex
	lastSync time.Time // the control plane's last answer (200 or 304)
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		version: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpnkeys_agent_applied_version",
			Help: "Version of the state applied last.",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpnkeys_agent_sessions",
			Help: "Live OpenVPN sessions at the last sweep.",
		}),
		kills: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpnkeys_agent_kills_total",
			Help: "Sessions ended (revoked, refused or disconnected).",
		}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpnkeys_agent_apply_errors_total",
			Help: "States that could not be applied (malformed, disk full...).",
		}),
		crlNext: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpnkeys_agent_crl_next_update_timestamp_seconds",
			Help: "nextUpdate of the CRL the agent holds (alert well before it passes: OpenVPN then refuses everyone).",
		}),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vpnkeys_agent_sync_age_seconds",
		Help: "Seconds since the control plane last answered (-1 before it ever did).",
	}, m.syncAge)
	m.reg.MustRegister(m.version, m.sessions, m.kills, m.applyErrors, m.crlNext, age)
	return m
}

func (m *metrics) synced(t time.Time) {
	m.mu.Lock()
	m.lastSync = t
	m.mu.Unlock()
}

func (m *metrics) syncAge() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastSync.IsZero() {
		return -1
	}
	return time.Since(m.lastSync).Seconds()
}

// Handler serves /metrics.
func (m *metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}
