package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestCRLWarning: a held CRL within 3 days of its nextUpdate is logged,
// reported and exported; a fresh one is only exported.
func TestCRLWarning(t *testing.T) {
	ca := newTestCA(t, "crl CA")
	for _, tc := range []struct {
		name string
		left time.Duration
		warn bool
	}{
		{"ok/30 days left", 30 * 24 * time.Hour, false},
		{"ok/2 days left warns", 48 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			r := offlineRunner(t, filepath.Join(t.TempDir(), "server"))
			r.log = slog.New(slog.NewTextHandler(&logs, nil))
			next := time.Now().Add(tc.left).Truncate(time.Second)
			der, err := ca.CreateCRL(7, nil, time.Now().Add(-time.Minute), next)
			if err != nil {
				t.Fatal(err)
			}
			st := simpleState("port 1194\n", string(pki.CRLPEM(der)))
			st.CRL.Number = 7
			if err := r.take(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			rep := r.report()
			if got := strings.Contains(rep.Error, "CRL expires"); got != tc.warn || !rep.CRLNextUpdate.Equal(next) || rep.CRLNumber != 7 {
				t.Errorf("report: got error %q, next update %v, CRL %d; want warning %v, %v, 7", rep.Error, rep.CRLNextUpdate, rep.CRLNumber, tc.warn, next)
			}
			if got := strings.Contains(logs.String(), "CRL close to its nextUpdate"); got != tc.warn {
				t.Errorf("log warning: got %v, want %v:\n%s", got, tc.warn, logs.String())
			}
			want := "vpnkeys_agent_crl_next_update_timestamp_seconds " + strconv.FormatFloat(float64(next.Unix()), 'g', -1, 64) + "\n"
			if got := scrape(t, r.m); !strings.Contains(got, want) {
				t.Errorf("metrics: got\n%s\nwant %q", got, want)
			}
		})
	}
}

// TestMetricsNames: every metric the design names is exported.
func TestMetricsNames(t *testing.T) {
	m := newMetrics()
	m.kills.Add(2)
	got := scrape(t, m)
	for _, name := range []string{"vpnkeys_agent_sync_age_seconds -1", "vpnkeys_agent_applied_version 0", "vpnkeys_agent_sessions 0",
		"vpnkeys_agent_kills_total 2", "vpnkeys_agent_apply_errors_total 0", "vpnkeys_agent_crl_next_update_timestamp_seconds 0"} {
		if !strings.Contains(got, name+"\n") {
			t.Errorf("metrics: no %q in\n%s", name, got)
		}
	}
}
