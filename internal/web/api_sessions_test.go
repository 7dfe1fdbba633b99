package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

var sessionSince = time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)

// reportSessions makes dc1's agent report sessions of users.
func reportSessions(t *testing.T, e *env, users ...string) {
	t.Helper()
	r := agentwire.Report{Version: 1, CRLNumber: 3, CRLNextUpdate: time.Now().Add(time.Hour), Management: true, AgentVersion: "test"}
	for i, u := range users {
		r.Sessions = append(r.Sessions, agentwire.Session{User: u, Serial: "0A", RealAddress: "203.0.113.4:" + strconv.Itoa(i+1),
			VPNAddress: "10.8.0.2", BytesIn: 1234, BytesOut: 5678, Since: sessionSince})
	}
	if err := e.a.ReportAgent(context.Background(), "dc1", r); err != nil {
		t.Fatal(err)
	}
}

// TestAPISessions: the sessions, the agents and a disconnect through the
// API, in the service's JSON shapes; refusals change nothing.
func TestAPISessions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	reportSessions(t, e, "bob", "alice")
	for _, c := range []struct {
		name, method, path, body string
		want                     int
		has                      string
	}{
		{"ok/sessions", "GET", "/api/v1/sessions", "", 200, `"real_address": "203.0.113.4:2"`},
		{"ok/sessions of dc1", "GET", "/api/v1/sessions?server=dc1", "", 200, `"bytes_out": 5678`},
		{"fail/sessions of an unknown server", "GET", "/api/v1/sessions?server=dc9", "", 404, `"not_found"`},
		{"ok/agents", "GET", "/api/v1/agents", "", 200, `"crl_number": 3`},
		{"fail/disconnect unknown", "POST", "/api/v1/users/nobody/disconnect", `{}`, 404, `"not_found"`},
		{"fail/disconnect bad name", "POST", "/api/v1/users/Bad%20Name/disconnect", ``, 400, `"invalid"`},
		{"fail/disconnect unknown field", "POST", "/api/v1/users/alice/disconnect", `{"why":"x"}`, 400, `"bad_request"`},
		{"fail/disconnect reason of two lines", "POST", "/api/v1/users/alice/disconnect", `{"reason":"a\nb"}`, 400, `reason`},
		{"ok/disconnect without a body", "POST", "/api/v1/users/bob/disconnect", ``, 200, `"sessions": 1`},
		{"ok/disconnect", "POST", "/api/v1/users/alice/disconnect", `{"reason":"lost laptop"}`, 200, `"user": "alice"`},
		{"fail/no token", "GET", "/api/v1/sessions", "", 401, `"unauthorized"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := e.token
			if strings.HasSuffix(c.name, "no token") {
				token = ""
			}
			ends := sessionEnds(t, e)
			resp, body := e.do(t, c.method, c.path, token, c.body)
			if resp.StatusCode != c.want || !strings.Contains(string(body), c.has) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, c.want, c.has)
			}
			if c.want != http.StatusOK && sessionEnds(t, e) != ends {
				t.Fatalf("a refused request recorded a session end")
			}
		})
	}
	_, body := e.do(t, "GET", "/api/v1/sessions", e.token, "")
	var got struct{ Sessions []authority.SessionView }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != 2 || got.Sessions[0].User != "alice" || got.Sessions[1].User != "bob" || !got.Sessions[0].Since.Equal(sessionSince) {
		t.Fatalf("sessions: got %+v, want alice then bob on dc1", got.Sessions)
	}
	_, body = e.do(t, "GET", "/api/v1/agents", e.token, "")
	var agents struct{ Agents []authority.AgentView }
	if err := json.Unmarshal(body, &agents); err != nil || len(agents.Agents) != 1 || agents.Agents[0].Server != "dc1" || agents.Agents[0].Sessions != 2 {
		t.Fatalf("agents: got %s, want dc1 with 2 sessions", body)
	}
	_, body = e.do(t, "GET", "/api/v1/audit?action=user.disconnect", e.token, "")
	if !strings.Contains(string(body), `"actor": "token:test"`) || !strings.Contains(string(body), "lost laptop") {
		t.Fatalf("audit of the disconnect: %s", body)
	}
	if n := sessionEnds(t, e); n != 2 {
		t.Fatalf("session ends: got %d, want 2", n)
	}
	// The metrics read the same reports at scrape time.
	_, body = e.do(t, "GET", "/metrics", "", "")
	lag := strconv.FormatInt(agents.Agents[0].Lag, 10)
	for _, want := range []string{`vpnkeys_agent_sessions{server="dc1"} 2`, `vpnkeys_agent_applied_version{server="dc1"} 1`,
		`vpnkeys_agent_lag_versions{server="dc1"} ` + lag, `vpnkeys_agent_last_seen_timestamp_seconds{server="dc1"} `,
		`vpnkeys_agent_crl_next_update_timestamp_seconds{server="dc1"} `} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func sessionEnds(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.SQL().QueryRow(`SELECT COUNT(*) FROM session_ends`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
