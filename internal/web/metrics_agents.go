package web

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// Per server, what its agent last reported, read from the database at
// scrape time (authority.AgentStatus), so every serve instance reports the
// same numbers. A server whose agent never reported has none of these.
var (
	agentLastSeenDesc = prometheus.NewDesc("vpnkeys_agent_last_seen_timestamp_seconds",
		"When the server's agent last reported (unix time).", []string{"server"}, nil)
	agentVersionDesc = prometheus.NewDesc("vpnkeys_agent_applied_version",
		"The change version the server's agent last applied.", []string{"server"}, nil)
	agentLagDesc = prometheus.NewDesc("vpnkeys_agent_lag_versions",
		"How many change versions the server's agent is behind the newest.", []string{"server"}, nil)
	agentSessionsDesc = prometheus.NewDesc("vpnkeys_agent_sessions",
		"Live sessions the server's agent last reported.", []string{"server"}, nil)
	agentCRLNextDesc = prometheus.NewDesc("vpnkeys_agent_crl_next_update_timestamp_seconds",
		"nextUpdate of the CRL the server's agent holds (unix time); OpenVPN refuses everyone after it.", []string{"server"}, nil)
)

// The agents' last self-test (issue 14): each check 1 (passes) or 0, and when it ran.
var (
	selfTestOKDesc = prometheus.NewDesc("vpnkeys_selftest_ok",
		"Whether the server's last self-test check passed (1) or failed (0): tunnel, revoked, crl.", []string{"server", "check"}, nil)
	selfTestTimeDesc = prometheus.NewDesc("vpnkeys_selftest_timestamp_seconds",
		"When the server's agent last ran its self-test (unix time).", []string{"server"}, nil)
)

type agentsCollector struct{ a *authority.Authority }

func (c *agentsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{agentLastSeenDesc, agentVersionDesc, agentLagDesc, agentSessionsDesc, agentCRLNextDesc, selfTestOKDesc, selfTestTimeDesc} {
		ch <- d
	}
}

func (c *agentsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.a.AgentStatus(ctx)
	if err != nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, server string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, server)
	}
	for _, v := range list {
		if st := v.SelfTest; st != nil {
			gauge(selfTestTimeDesc, float64(st.At.Unix()), v.Server)
			for _, c := range st.Checks {
				ok := 0.0
				if c.OK {
					ok = 1
				}
				ch <- prometheus.MustNewConstMetric(selfTestOKDesc, prometheus.GaugeValue, ok, v.Server, c.Name)
			}
		}
		if !v.Seen() {
			continue
		}
		gauge(agentLastSeenDesc, float64(v.LastSeen.Unix()), v.Server)
		gauge(agentVersionDesc, float64(v.Version), v.Server)
		gauge(agentLagDesc, float64(v.Lag), v.Server)
		gauge(agentSessionsDesc, float64(v.Sessions), v.Server)
		if !v.CRLNextUpdate.IsZero() {
			gauge(agentCRLNextDesc, float64(v.CRLNextUpdate.Unix()), v.Server)
		}
	}
}
