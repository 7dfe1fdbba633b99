package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestUIServersAndRemove: a signed-in admin adds a server and removes it
// after typing its name, and removes a user for good after typing theirs;
// a wrong confirmation changes nothing.
func TestUIServersAndRemove(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	ctx := context.Background()
	resp, _ := post(t, c, e.srv.URL+"/ui/servers", url.Values{"name": {"dc2"}, "remote": {"vpn2.example.com:443/tcp"}, "push_routes": {"10.1.0.0/16"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add server: %d", resp.StatusCode)
	}
	if _, body := get(t, c, e.srv.URL+"/ui/servers"); !strings.Contains(body, "vpn2.example.com:443/tcp") || !strings.Contains(body, "10.1.0.0/16") {
		t.Fatalf("servers page lacks dc2:\n%s", body)
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/servers", url.Values{"name": {"dc3"}, "remote": {"not a remote"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad remote: got %d, want 400", resp.StatusCode)
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/servers/dc2/remove", url.Values{"confirm": {"dc1"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("remove with a wrong confirmation: got %d, want 400", resp.StatusCode)
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/servers/dc2/remove", url.Values{"confirm": {"dc2"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove server: %d", resp.StatusCode)
	}
	if list, _ := e.a.Servers(ctx); len(list) != 1 {
		t.Fatalf("servers after remove: %+v", list)
	}
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "carol"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/carol/remove", url.Values{"confirm": {"carol"}, "reason": {"affiliation-changed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove user: %d", resp.StatusCode)
	}
	if d, err := e.a.Show(ctx, "carol"); err != nil || d.Status != "revoked" {
		t.Fatalf("carol after remove: %+v %v", d, err)
	}
}
