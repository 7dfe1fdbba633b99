package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// TestRestartPending: an agent that holds back a restart until its
// restart window shows it in GET /api/v1/agents and on the servers page.
func TestRestartPending(t *testing.T) {
	e := uiEnv(t)
	since := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if err := e.a.ReportAgent(context.Background(), "dc1", agentwire.Report{Version: 1, RestartPending: since}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, "GET", "/api/v1/agents", e.token, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"restart_pending": "2026-11-30T10:00:00Z"`) {
		t.Fatalf("GET /api/v1/agents: got %d %s, want restart_pending", resp.StatusCode, body)
	}
	c := browser(t)
	signIn(t, e, c)
	if _, page := get(t, c, e.srv.URL+"/ui/servers"); !strings.Contains(page, "restart pending since 2026-11-30 10:00") {
		t.Fatalf("servers page lacks the pending restart:\n%s", page)
	}
}
