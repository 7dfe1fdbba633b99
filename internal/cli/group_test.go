package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestGroupCommands: the group commands, add --group, access check and
// show, with their exit codes and JSON.
func TestGroupCommands(t *testing.T) {
	data, pf := setup(t)
	base := []string{"--data", data, "--passphrase-file", pf}
	cli := func(args ...string) result { return run(t, nil, append(base, args...)...) }
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"group", "add", "developers", "--allow", "10.1.0.0/16:tcp/22,443", "--allow", "10.1.5.3:udp/53", "--description", "Devs"}, "group developers added with 2 rules"},
		{[]string{"group", "add", "everyone", "--allow", "0.0.0.0/0", "--i-mean-it"}, "group everyone added with 1 rules"},
		{[]string{"add", "alice", "--group", "developers"}, "alice: issued certificate"},
		{[]string{"add", "bob"}, "bob: issued certificate"},
		{[]string{"group", "allow", "developers", "10.2.0.0/16:icmp"}, "now has 3 rules"},
		{[]string{"group", "deny", "developers", "10.1.5.3/32:udp/53"}, "group developers now has 2 rules: 10.1.0.0/16:tcp/22,443, 10.2.0.0/16:icmp"},
		{[]string{"group", "members", "add", "developers", "bob"}, "group developers now has 2 members: alice, bob"},
		{[]string{"group", "members", "remove", "developers", "bob"}, "1 members: alice"},
		{[]string{"group", "show", "developers"}, "members:     alice"},
		{[]string{"group", "list"}, "developers  1        10.1.0.0/16:tcp/22,443, 10.2.0.0/16:icmp  Devs"},
		{[]string{"access", "check", "alice", "10.1.0.5:22/tcp"}, "allowed by group developers (rule 10.1.0.0/16:tcp/22,443)\n"},
		{[]string{"access", "check", "alice", "10.9.9.9:22/tcp"}, "denied: no group of alice allows 10.9.9.9:22/tcp\n"},
		{[]string{"show", "alice"}, "groups:   developers\naddresses: dc1 10.8.0.2\n"},
		{[]string{"group", "remove", "everyone"}, "group everyone removed"},
		{[]string{"firewall", "show", "dc1"}, "# client-config file ccd/alice\n# vpnkeys: alice on dc1; groups: developers\nifconfig-push 10.8.0.2 255.255.240.0\npush \"route 10.1.0.0 255.255.0.0\""},
	}
	for _, s := range steps {
		t.Run("ok/"+strings.Join(s.args, " "), func(t *testing.T) {
			r := cli(s.args...)
			if r.code != 0 || !strings.Contains(r.out, s.want) {
				t.Fatalf("got %d %q %q, want exit 0 and %q", r.code, r.out, r.err, s.want)
			}
		})
	}
	var g authority.GroupView
	r := cli("group", "show", "developers", "--json")
	if err := json.Unmarshal([]byte(r.out), &g); err != nil || g.Name != "developers" || len(g.Rules) != 2 || g.Members[0] != "alice" {
		t.Fatalf("group show --json: got %+v %v from %q", g, err, r.out)
	}
	var list []authority.GroupView
	if r := cli("group", "list", "--json"); json.Unmarshal([]byte(r.out), &list) != nil || len(list) != 1 {
		t.Fatalf("group list --json: got %q", r.out)
	}
	var v authority.AccessVerdict
	if r := cli("access", "check", "alice", "10.9.9.9:22/tcp", "--json"); json.Unmarshal([]byte(r.out), &v) != nil || v.Allowed || v.Target != "10.9.9.9:22/tcp" {
		t.Fatalf("access check --json: got %q", r.out)
	}

	bad := []struct {
		name string
		args []string
		want string
	}{
		{"fail/malformed cidr", []string{"group", "add", "ops", "--allow", "10.1.0.0/33"}, "10.1.0.0/33"},
		{"fail/bad port", []string{"group", "allow", "developers", "10.1.0.0/16:tcp/0"}, `port "0"`},
		{"fail/bad protocol", []string{"group", "allow", "developers", "10.1.0.0/16:gre"}, `"gre"`},
		{"fail/bad group name", []string{"group", "add", "Ops!"}, "group name"},
		{"fail/everything", []string{"group", "add", "ops", "--allow", "0.0.0.0/0"}, "hint: add --i-mean-it"},
		{"fail/unknown member", []string{"group", "members", "add", "developers", "mallory"}, "no such user: mallory"},
		{"fail/unknown group", []string{"group", "members", "add", "nope", "alice"}, "no such group: nope"},
		{"fail/add with unknown group", []string{"add", "carol", "--group", "nope"}, "no such group: nope"},
		{"fail/bad target", []string{"access", "check", "alice", "10.1.0.5:22"}, "HOST:PORT/PROTO"},
		{"fail/missing rule", []string{"group", "allow", "developers"}, "missing a GROUP and at least one RULE"},
		{"fail/unknown subcommand", []string{"group", "mebmers"}, `unknown command "mebmers" for "vpnkeys group"`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			r := cli(c.args...)
			if r.code != 2 || !strings.Contains(r.err, c.want) || r.out != "" {
				t.Fatalf("got %d %q %q, want exit 2 naming %q and nothing on stdout", r.code, r.out, r.err, c.want)
			}
		})
	}
	if r := cli("show", "carol"); r.code != 2 {
		t.Fatalf("carol after a refused add: got %+v, want no such user", r)
	}
	if r := cli("group", "show", "ops"); r.code != 2 {
		t.Fatalf("ops after refused adds: got %+v, want no such group", r)
	}
}
