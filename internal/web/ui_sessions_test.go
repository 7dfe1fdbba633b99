package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestUISessions: the "Connected now" page lists what the agents reported,
// the servers page shows each agent with a warning for a CRL about to
// lapse, and the user page's Disconnect button records a disconnect, but
// only for a signed-in, same-origin POST of a known user.
func TestUISessions(t *testing.T) {
	e := uiEnv(t)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	c := browser(t)
	if resp, _ := get(t, c, e.srv.URL+"/ui/sessions"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("sessions page signed out: got %d %s, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/disconnect", nil); resp.StatusCode != http.StatusUnauthorized || sessionEnds(t, e) != 0 {
		t.Fatalf("disconnect signed out: got %d, want 401 and nothing recorded", resp.StatusCode)
	}
	signIn(t, e, c)
	if _, body := get(t, c, e.srv.URL+"/ui/sessions"); !strings.Contains(body, "Nobody is connected.") || !strings.Contains(body, "no report yet from dc1") {
		t.Fatalf("sessions page before any report:\n%s", body)
	}
	reportSessions(t, e, "alice", "bob")

	resp, body := get(t, c, e.srv.URL+"/ui/sessions")
	for _, want := range []string{`<a href="/ui/sessions">Connected now</a>`, `<a href="/ui/users/alice">alice</a>`, `<a href="/ui/users/bob">bob</a>`,
		"203.0.113.4:1", "203.0.113.4:2", "10.8.0.2", "1.2 KiB / 5.5 KiB", "2026-11-30 01:02:03"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("sessions page: got %d, lacks %q:\n%s", resp.StatusCode, want, body)
		}
	}
	if strings.Contains(body, "no report yet") {
		t.Fatalf("sessions page still says no report:\n%s", body)
	}
	// An agent silent for an hour: its sessions are flagged as maybe out of date.
	ago := func(d time.Duration) *authority.Authority {
		return authority.New(e.db, authority.Options{Now: func() time.Time { return time.Now().Add(-d) }})
	}
	if _, err := ago(2*time.Hour).AddServer(ctx, authority.ServerRequest{Name: "dc2", Remote: "127.0.0.1:11943"}); err != nil {
		t.Fatal(err)
	}
	if err := ago(time.Hour).ReportAgent(ctx, "dc2", agentwire.Report{}); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, c, e.srv.URL+"/ui/sessions"); !strings.Contains(body, "No report for over 2 minutes from dc2:") || strings.Contains(body, "from dc1") {
		t.Fatalf("sessions page with a silent agent: want dc2 flagged, dc1 not:\n%s", body)
	}
	if resp, _ := get(t, c, e.srv.URL+"/ui/sessions?server=dc9"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("sessions of an unknown server: got %d, want 404", resp.StatusCode)
	}

	_, body = get(t, c, e.srv.URL+"/ui/servers")
	for _, want := range []string{`id="agent-dc1"`, "not enrolled", "#3", "expires within 3 days"} {
		if !strings.Contains(body, want) {
			t.Fatalf("servers page lacks %q:\n%s", want, body)
		}
	}

	_, body = get(t, c, e.srv.URL+"/ui/users/alice")
	if !strings.Contains(body, `action="/ui/users/alice/disconnect"`) || !strings.Contains(body, "<h2>Connected now</h2>") || strings.Contains(body, `href="/ui/users/bob"`) {
		t.Fatalf("user page: want the Disconnect button and alice's session only:\n%s", body)
	}

	// A cross-origin POST is refused before the handler.
	req, _ := http.NewRequest("POST", e.srv.URL+"/ui/users/alice/disconnect", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden || sessionEnds(t, e) != 0 {
		t.Fatalf("cross-origin disconnect: got %v %v, want 403 and nothing recorded", resp, err)
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/nobody/disconnect", nil); resp.StatusCode != http.StatusNotFound || sessionEnds(t, e) != 0 {
		t.Fatalf("disconnect of an unknown user: got %d, want 404 and nothing recorded", resp.StatusCode)
	}
	resp, _ = post(t, c, e.srv.URL+"/ui/users/alice/disconnect", url.Values{})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/ui/users/alice" || !strings.Contains(loc.Query().Get("flash"), "(1 reported connected)") {
		t.Fatalf("disconnect: got %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := sessionEnds(t, e); n != 1 {
		t.Fatalf("session ends: got %d, want 1", n)
	}
	if evs, _ := e.a.Audit(ctx, authority.AuditFilter{Action: authority.ActionDisconnect}); len(evs) != 1 || evs[0].Actor != "admin:ann" {
		t.Fatalf("audit: got %+v, want one user.disconnect by admin:ann", evs)
	}
}

// browseSessions is TestBrowser's part about the agents: with alice
// reported connected, the "Connected now" page lists her, and her page's
// Disconnect now button asks for her sessions to end.
func browseSessions(t *testing.T, e *env, step func(string, ...chromedp.Action), shot func(string) chromedp.Action) {
	t.Helper()
	var text string
	reportSessions(t, e, "alice")
	step("connected now",
		chromedp.Click(`//nav/a[. = "Connected now"]`),
		chromedp.WaitVisible(`table.sessions`),
		chromedp.Text(`table.sessions tbody`, &text),
		shot("11-connected-now"),
	)
	if !strings.Contains(text, "alice") || !strings.Contains(text, "203.0.113.4:1") {
		t.Fatalf("connected now: %q", text)
	}
	step("disconnect",
		chromedp.Click(`//table[contains(@class, "sessions")]//a[. = "alice"]`),
		chromedp.WaitVisible(`//button[. = "Disconnect now"]`),
		chromedp.Click(`//button[. = "Disconnect now"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &text),
		shot("12-disconnected"),
	)
	if !strings.Contains(text, "asked to end alice's sessions (1 reported connected)") {
		t.Fatalf("after disconnecting: flash %q", text)
	}
}
