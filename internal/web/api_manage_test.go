package web

import (
	"context"
	"strings"
	"testing"
)

// TestAPIManage: servers are registered, changed and removed, and a user
// taken away for good, through the API as through the CLI; bad input is
// refused with nothing changed.
func TestAPIManage(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token
	for _, c := range []struct {
		name, method, path, body string
		want                     int
		has                      string
	}{
		{"ok/add server", "POST", "/api/v1/servers", `{"name":"dc2","remote":"[2001:db8::1]:443/tcp","push_routes":["10.1.0.0/16"]}`, 201, `"remote": "[2001:db8::1]:443/tcp"`},
		{"fail/server exists", "POST", "/api/v1/servers", `{"name":"dc2","remote":"vpn.example.com:1194"}`, 409, `"exists"`},
		{"fail/bad remote", "POST", "/api/v1/servers", `{"name":"dc3","remote":"vpn example"}`, 400, `"invalid"`},
		{"ok/set server", "PATCH", "/api/v1/servers/dc2", `{"subnet":"10.9.0.0/24"}`, 200, `"subnet": "10.9.0.0/24"`},
		{"fail/set unknown", "PATCH", "/api/v1/servers/nope", `{"subnet":"10.9.0.0/24"}`, 404, `"not_found"`},
		{"ok/list keeps push", "GET", "/api/v1/servers", "", 200, `"10.1.0.0/16"`},
		{"ok/remove server", "DELETE", "/api/v1/servers/dc2", "", 200, `"removed": true`},
		{"fail/remove unknown server", "DELETE", "/api/v1/servers/dc2", "", 404, `"not_found"`},
		{"ok/add alice", "POST", "/api/v1/users", `{"name":"alice"}`, 201, `"alice"`},
		{"fail/bad reason", "DELETE", "/api/v1/users/alice?reason=boredom", "", 400, `revocation reason`},
		{"ok/remove alice", "DELETE", "/api/v1/users/alice?reason=affiliation-changed", "", 200, `"removed": true`},
		{"fail/remove nobody", "DELETE", "/api/v1/users/nobody", "", 404, `"not_found"`},
		{"fail/no token", "DELETE", "/api/v1/servers/dc1", "", 401, `"unauthorized"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := tok
			if strings.HasSuffix(c.name, "no token") {
				token = ""
			}
			resp, body := e.do(t, c.method, c.path, token, c.body)
			if resp.StatusCode != c.want || !strings.Contains(string(body), c.has) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, c.want, c.has)
			}
		})
	}
	d, err := e.a.Show(context.Background(), "alice")
	if err != nil || d.Status != "revoked" {
		t.Fatalf("alice after DELETE: got %+v %v, want revoked and kept in the record", d, err)
	}
	servers, _ := e.a.Servers(context.Background())
	if len(servers) != 1 || servers[0].Name != "dc1" {
		t.Fatalf("servers: got %+v, want dc1 only", servers)
	}
}
