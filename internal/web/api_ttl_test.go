package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestLinkTTLCap: the API refuses a link lifetime beyond the config's cap
// (90 days) with 400 and the usual error shape, makes no link, and takes
// the cap itself.
func TestLinkTTLCap(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.a.AddUsers(context.Background(), []authority.UserRequest{{Name: "alice", Email: "alice@example.com"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	before := e.state(t)
	for _, tc := range []struct{ name, path, body string }{
		{"fail/links 2000000h", "/api/v1/users/alice/links", `{"ttl_hours":2000000}`},
		{"fail/links 2161h", "/api/v1/users/alice/links", `{"ttl_hours":2161}`},
		{"fail/links 1e300h", "/api/v1/users/alice/links", `{"ttl_hours":1e300}`},
		{"fail/send 2000000h", "/api/v1/users/alice/send", `{"ttl_hours":2000000}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "POST", tc.path, e.token, tc.body)
			var ae apiError
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &ae) != nil || ae.Error.Code != "invalid" {
				t.Fatalf("got %d %s, want 400 with code invalid", resp.StatusCode, body)
			}
		})
	}
	if after := e.state(t); after != before {
		t.Fatalf("refused requests changed state: %s -> %s", before, after)
	}
	for _, tc := range []struct {
		name, body string
		want       time.Duration
	}{
		{"ok/2160h", `{"ttl_hours":2160}`, authority.MaxLinkTTL},
		{"ok/0 is the default", `{"ttl_hours":0}`, authority.DefaultLinkTTL},
		{"ok/negative is the default", `{"ttl_hours":-5}`, authority.DefaultLinkTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, body := e.do(t, "POST", "/api/v1/users/alice/links", e.token, tc.body)
			var got struct {
				Expires time.Time `json:"expires"`
			}
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &got) != nil {
				t.Fatalf("got %d %s, want 201", resp.StatusCode, body)
			}
			if d := got.Expires.Sub(start); d < tc.want-time.Minute || d > tc.want+time.Minute {
				t.Fatalf("link lasts %s, want %s", d, tc.want)
			}
		})
	}
}
