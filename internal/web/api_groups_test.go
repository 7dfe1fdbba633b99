package web

import (
	"context"
	"maps"
	"strings"
	"testing"
)

// TestAPIGroups: groups, rules, members and the access check through the
// API, as through the CLI; every refused request changes no row.
func TestAPIGroups(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name, method, path, body string
		want                     int
		has                      string
	}{
		{"ok/add group", "POST", "/api/v1/groups", `{"name":"developers","description":"Devs","allow":["10.1.0.0/16:tcp/443,22"]}`, 201, `"10.1.0.0/16:tcp/22,443"`},
		{"fail/everything", "POST", "/api/v1/groups", `{"name":"ops","allow":["0.0.0.0/0"]}`, 400, `"allows_everything"`},
		{"fail/bad rule", "POST", "/api/v1/groups", `{"name":"ops","allow":["10.1.0.0/16:tcp/99999"]}`, 400, `port \"99999\"`},
		{"fail/bad name", "POST", "/api/v1/groups", `{"name":"Ops Team"}`, 400, `group name`},
		{"fail/exists", "POST", "/api/v1/groups", `{"name":"developers"}`, 409, `"exists"`},
		{"ok/everything meant", "POST", "/api/v1/groups", `{"name":"everyone","allow":["::/0"],"i_mean_it":true}`, 201, `"::/0"`},
		{"ok/add alice in a group", "POST", "/api/v1/users", `{"name":"alice","groups":["developers"]}`, 201, `"groups": [` + "\n" + `    "developers"`},
		{"fail/add carol in no such group", "POST", "/api/v1/users", `{"name":"carol","groups":["ghosts"]}`, 404, `ghosts`},
		{"ok/show alice with address", "GET", "/api/v1/users/alice", "", 200, `"address": "10.8.0.2"`},
		{"ok/patch", "PATCH", "/api/v1/groups/developers", `{"allow":["10.2.0.0/16:udp/53"],"deny":["10.1.0.0/16:tcp/22,443"],"description":"Developers"}`, 200, `"rules": [` + "\n" + `    "10.2.0.0/16:udp/53"`},
		{"fail/patch deny absent", "PATCH", "/api/v1/groups/developers", `{"allow":["10.3.0.0/16"],"deny":["10.9.0.0/16"]}`, 404, `has no rule 10.9.0.0/16`},
		{"fail/patch unknown field", "PATCH", "/api/v1/groups/developers", `{"rules":["10.3.0.0/16"]}`, 400, `unknown field`},
		{"fail/patch unknown group", "PATCH", "/api/v1/groups/nope", `{"allow":["10.3.0.0/16"]}`, 404, `no such group`},
		{"ok/list", "GET", "/api/v1/groups", "", 200, `"name": "everyone"`},
		{"ok/check allowed", "GET", "/api/v1/access/check?user=alice&target=10.2.3.4:53/udp", "", 200, `"group": "developers"`},
		{"ok/check denied", "GET", "/api/v1/access/check?user=alice&target=10.1.0.5:22/tcp", "", 200, `"allowed": false`},
		{"fail/check bad target", "GET", "/api/v1/access/check?user=alice&target=10.1.0.5", "", 400, `HOST:PORT/PROTO`},
		{"fail/member unknown user", "PUT", "/api/v1/groups/everyone/members/mallory", "", 404, `mallory`},
		{"ok/member add", "PUT", "/api/v1/groups/everyone/members/alice", "", 200, `"members": [` + "\n" + `    "alice"`},
		{"ok/member remove", "DELETE", "/api/v1/groups/everyone/members/alice", "", 200, `"members": []`},
		{"fail/member remove again", "DELETE", "/api/v1/groups/everyone/members/alice", "", 404, `not in group everyone`},
		{"ok/remove group", "DELETE", "/api/v1/groups/everyone", "", 200, `"removed": true`},
		{"fail/show removed", "GET", "/api/v1/groups/everyone", "", 404, `no such group`},
		{"fail/no token", "GET", "/api/v1/groups", "", 401, `"unauthorized"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := e.token
			if strings.HasSuffix(c.name, "no token") {
				token = ""
			}
			before, err := e.db.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := e.do(t, c.method, c.path, token, c.body)
			if resp.StatusCode != c.want || !strings.Contains(string(body), c.has) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, c.want, c.has)
			}
			if after, _ := e.db.Counts(ctx); strings.HasPrefix(c.name, "fail/") && !maps.Equal(before, after) {
				t.Fatalf("rows: got %v, want %v (nothing changed)", after, before)
			}
		})
	}
}
