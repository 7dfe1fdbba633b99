package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// Metrics are vpnkeys' Prometheus metrics, on a registry of their own.
type Metrics struct {
	reg       *prometheus.Registry
	ops       *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

// NewMetrics makes the metrics; the users' gauges are read from the
// database at scrape time, so every instance reports the same numbers.
func NewMetrics(a *authority.Authority) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpnkeys_operations_total",
			Help: "Operations by kind (issue, revoke, mail, link.redeem) and result (ok, error).",
		}, []string{"op", "result"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vpnkeys_operation_duration_seconds",
			Help:    "How long operations took.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.ops, m.durations, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a != nil {
		m.Watch(a)
	}
	return m
}

// Watch adds the gauges read from a's database at scrape time. Metrics are
// made before the authority that reports to them, so this comes after.
func (m *Metrics) Watch(a *authority.Authority) {
	m.reg.MustRegister(&usersCollector{a: a}, &agentsCollector{a: a})
}

// Observe is an authority.Options.Observe.
func (m *Metrics) Observe(op string, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.ops.WithLabelValues(op, result).Inc()
	m.durations.WithLabelValues(op).Observe(took.Seconds())
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	usersDesc    = prometheus.NewDesc("vpnkeys_users", "Users by status.", []string{"status"}, nil)
	expiringDesc = prometheus.NewDesc("vpnkeys_certificates_expiring_30d", "Active user certificates that expire within 30 days.", nil, nil)
	crlDesc      = prometheus.NewDesc("vpnkeys_crl_number", "Number of the newest CRL.", nil, nil)
)

type usersCollector struct{ a *authority.Authority }

func (c *usersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usersDesc
	ch <- expiringDesc
	ch <- crlDesc
}

func (c *usersCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, st := range []string{authority.StatusActive, authority.StatusExpiring, authority.StatusExpired, authority.StatusRevoked, authority.StatusNone} {
		_, n, err := c.a.List(ctx, authority.ListFilter{Status: st, Limit: 1})
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(usersDesc, prometheus.GaugeValue, float64(n), st)
		if st == authority.StatusExpiring {
			ch <- prometheus.MustNewConstMetric(expiringDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if crl, err := c.a.CRL(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(crlDesc, prometheus.GaugeValue, float64(crl.Number))
	}
}
