package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestLinkAuditAndLanguage: link events name the link as actor and the
// employee's address; the "used" page speaks the user's language whether
// reached by opening the link again or by clicking download again.
func TestLinkAuditAndLanguage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "sofia", OS: "linux", Lang: "es"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := e.a.CreateLink(ctx, "sofia", 0)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.do(t, "GET", "/l/"+l.Token, "", ""); resp.StatusCode != 200 {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	post := func() (int, string) {
		resp, err := http.PostForm(l.URL, url.Values{"format": {"ovpn"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, _ := post(); code != 200 {
		t.Fatalf("download: %d", code)
	}
	for name, got := range map[string]func() (int, string){
		"second click": post,
		"page again": func() (int, string) {
			resp, b := e.do(t, "GET", "/l/"+l.Token, "", "")
			return resp.StatusCode, string(b)
		},
	} {
		code, body := got()
		if code != http.StatusGone || !strings.Contains(body, "Este enlace ya se usó") || !strings.Contains(body, `lang="es"`) {
			t.Errorf("%s: got %d, want the Spanish 'used' page:\n%s", name, code, body)
		}
	}
	evs, err := e.a.Audit(ctx, authority.AuditFilter{Target: "sofia"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Action != "link.open" && ev.Action != "link.redeem" {
			continue
		}
		seen[ev.Action] = true
		if ev.Actor != "link" || ev.Source != "127.0.0.1" {
			t.Errorf("%s: got actor %q from %q, want link from 127.0.0.1", ev.Action, ev.Actor, ev.Source)
		}
	}
	if !seen["link.open"] || !seen["link.redeem"] {
		t.Fatalf("audit: got %v, want link.open and link.redeem", seen)
	}
}
