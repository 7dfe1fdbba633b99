package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestUIGroups: a signed-in admin adds a group, allows and takes away
// rules, puts a user in it from the group page and from the user page,
// sees the user's groups and address, and removes the group after typing
// its name; bad input is refused with its message and changes nothing.
func TestUIGroups(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob"}}, authority.AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	u := e.srv.URL
	steps := []struct {
		name, path string
		form       url.Values
		want       int
		has        string
	}{
		{"ok/add group", "/ui/groups", url.Values{"name": {"developers"}, "description": {"Devs"}, "allow": {"10.1.0.0/16:tcp/22,443\r\n10.1.5.3:udp/53"}}, 303, ""},
		{"fail/bad rule", "/ui/groups", url.Values{"name": {"ops"}, "allow": {"10.1.0.0/33"}}, 400, "10.1.0.0/33"},
		{"fail/everything unchecked", "/ui/groups", url.Values{"name": {"ops"}, "allow": {"0.0.0.0/0"}}, 400, "every destination"},
		{"ok/allow", "/ui/groups/developers/allow", url.Values{"allow": {"10.2.0.0/16:icmp"}}, 303, ""},
		{"ok/deny", "/ui/groups/developers/deny", url.Values{"rule": {"10.1.5.3:udp/53"}}, 303, ""},
		{"ok/add member", "/ui/groups/developers/members", url.Values{"users": {"alice"}}, 303, ""},
		{"fail/unknown member", "/ui/groups/developers/members", url.Values{"users": {"alice mallory"}}, 404, "mallory"},
		{"ok/join from user page", "/ui/users/bob/groups", url.Values{"group": {"developers"}}, 303, ""},
		{"ok/take bob out", "/ui/groups/developers/members/bob/remove", url.Values{"from": {"user"}}, 303, ""},
		{"fail/remove unconfirmed", "/ui/groups/developers/remove", url.Values{"confirm": {"ops"}}, 400, "confirm"},
		{"ok/new user in the group", "/ui/users", url.Values{"name": {"carol"}, "group": {"developers"}}, 303, ""},
		{"fail/new user in no such group", "/ui/users", url.Values{"name": {"dave"}, "group": {"ghosts"}}, 404, "ghosts"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before, _ := e.db.Counts(ctx)
			resp, body := post(t, c, u+s.path, s.form)
			if resp.StatusCode != s.want || !strings.Contains(body, s.has) {
				t.Fatalf("got %d, want %d with %q:\n%s", resp.StatusCode, s.want, s.has, body)
			}
			if after, _ := e.db.Counts(ctx); strings.HasPrefix(s.name, "fail/") && after["groups"]+after["group_rules"]+after["group_members"] !=
				before["groups"]+before["group_rules"]+before["group_members"] {
				t.Fatalf("rows: got %v, want %v", after, before)
			}
		})
	}
	_, body := get(t, c, u+"/ui/groups/developers")
	for _, want := range []string{"10.1.0.0/16:tcp/22,443", "10.2.0.0/16:icmp", `href="/ui/users/alice"`, "group.members.add"} {
		if !strings.Contains(body, want) {
			t.Errorf("group page lacks %q", want)
		}
	}
	if strings.Contains(body, `value="10.1.5.3:udp/53"`) || strings.Contains(body, `href="/ui/users/bob"`) {
		t.Errorf("group page shows a rule taken away or a member taken out:\n%s", body)
	}
	if _, body := get(t, c, u+"/ui/users/alice"); !strings.Contains(body, `href="/ui/groups/developers"`) || !strings.Contains(body, "10.8.0.2") {
		t.Errorf("user page lacks the group or the address:\n%s", body)
	}
	if _, body := get(t, c, u+"/ui/users/new"); !strings.Contains(body, `name="group" value="developers"`) {
		t.Errorf("new user form lacks the developers box:\n%s", body)
	}
	if g, _ := e.a.Group(ctx, "developers"); !slices.Equal(g.Members, []string{"alice", "carol"}) {
		t.Errorf("members: got %v, want alice and carol", g.Members)
	}
	if _, body := get(t, c, u+"/ui/groups"); !strings.Contains(body, `href="/ui/groups/developers"`) {
		t.Errorf("groups page lacks developers:\n%s", body)
	}
	if resp, _ := post(t, c, u+"/ui/groups/developers/remove", url.Values{"confirm": {"developers"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove group: %d", resp.StatusCode)
	}
	if list, _ := e.a.Groups(ctx); slices.ContainsFunc(list, func(g authority.GroupView) bool { return g.Name == "developers" }) {
		t.Fatalf("groups after remove: %+v", list)
	}
}
