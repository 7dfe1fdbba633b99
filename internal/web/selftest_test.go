package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// TestSelfTestShown: an agent's self-test shows in the API, the metrics
// and on the servers page, failing checks with why.
func TestSelfTestShown(t *testing.T) {
	e := uiEnv(t)
	st := &agentwire.SelfTest{At: time.Now(), Checks: []agentwire.Check{
		{Name: "tunnel", OK: false, Detail: "no tunnel: the server did not answer"},
		{Name: "revoked", OK: true}, {Name: "crl", OK: true},
	}}
	if err := e.a.ReportAgent(context.Background(), "dc1", agentwire.Report{Version: 1, Management: true, SelfTest: st}); err != nil {
		t.Fatal(err)
	}
	_, body := e.do(t, "GET", "/api/v1/agents", e.token, "")
	if !strings.Contains(string(body), `"selftest": {`) || !strings.Contains(string(body), `"detail": "no tunnel: the server did not answer"`) {
		t.Errorf("GET /api/v1/agents: got %s, want dc1's self-test", body)
	}
	_, body = e.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{`vpnkeys_selftest_ok{check="tunnel",server="dc1"} 0`, `vpnkeys_selftest_ok{check="crl",server="dc1"} 1`,
		`vpnkeys_selftest_timestamp_seconds{server="dc1"} `} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	c := browser(t)
	signIn(t, e, c)
	if _, page := get(t, c, e.srv.URL+"/ui/servers"); !strings.Contains(page, "failing: tunnel") || !strings.Contains(page, "the server did not answer") {
		t.Errorf("servers page lacks the failing self-test:\n%s", page)
	}
}
