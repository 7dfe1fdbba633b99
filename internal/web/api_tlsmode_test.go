package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPITLSMode: tls_mode on POST and PATCH /api/v1/servers; an unknown
// mode is a 400 with nothing changed.
func TestAPITLSMode(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		name, method, path, body string
		want                     int
		has                      string
	}{
		{"fail/add unknown mode", "POST", "/api/v1/servers", `{"name":"dc2","remote":"vpn2.example.com:1194","tls_mode":"tls-magic"}`, 400, `tls-magic`},
		{"ok/add tls-auth", "POST", "/api/v1/servers", `{"name":"dc2","remote":"vpn2.example.com:1194","tls_mode":"tls-auth"}`, 201, `"tls_mode": "tls-auth"`},
		{"fail/set unknown mode", "PATCH", "/api/v1/servers/dc1", `{"tls_mode":"none"}`, 400, `"invalid"`},
		{"ok/set tls-crypt-v2", "PATCH", "/api/v1/servers/dc1", `{"tls_mode":"tls-crypt-v2"}`, 200, `"tls_mode": "tls-crypt-v2"`},
		{"ok/list", "GET", "/api/v1/servers", "", 200, `"tls_mode": "tls-auth"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.do(t, c.method, c.path, e.token, c.body)
			if resp.StatusCode != c.want || !strings.Contains(string(body), c.has) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, c.want, c.has)
			}
		})
	}
	servers, err := e.a.Servers(context.Background())
	if err != nil || len(servers) != 2 || servers[0].TLSMode != "tls-crypt-v2" || servers[1].TLSMode != "tls-auth" {
		t.Fatalf("servers: got %+v %v, want dc1 tls-crypt-v2, dc2 tls-auth", servers, err)
	}
}

// TestUIServerTLSMode: the servers page adds a server with the mode
// chosen and shows each server's mode.
func TestUIServerTLSMode(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	resp, _ := post(t, c, e.srv.URL+"/ui/servers", url.Values{"name": {"dc2"}, "remote": {"vpn2.example.com:1194"}, "tls_mode": {"tls-crypt-v2"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: got %d, want 303", resp.StatusCode)
	}
	if _, body := get(t, c, e.srv.URL+"/ui/servers"); !strings.Contains(body, `<td class="mono">tls-crypt-v2</td>`) || !strings.Contains(body, `<td class="mono">tls-crypt</td>`) {
		t.Fatalf("servers page lacks the modes:\n%s", body)
	}
}
