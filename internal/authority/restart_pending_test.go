package authority

import (
	"context"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestRestartPendingReported: an agent's held-back restart shows in
// AgentStatus (server status, the API, the servers page) until a report
// without it.
func TestRestartPendingReported(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	since := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		rep  time.Time
	}{{"ok/pending", since}, {"ok/cleared", time.Time{}}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.a.ReportAgent(ctx, "dc1", agentwire.Report{Version: 1, RestartPending: tc.rep}); err != nil {
				t.Fatal(err)
			}
			list, err := f.a.AgentStatus(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("AgentStatus: %v %v", list, err)
			}
			if got := list[0].RestartPending; !got.Equal(tc.rep) {
				t.Fatalf("restart pending: got %v, want %v", got, tc.rep)
			}
		})
	}
}
