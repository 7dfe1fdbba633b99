package authority

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// rows counts every table's rows, to prove a refused call changed nothing.
func rows(t *testing.T, f *fixture) map[string]int64 {
	t.Helper()
	n, err := f.db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGroups(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob")
	v0, _, _ := f.a.Changes(ctx, 0, 0)

	g, err := f.a.AddGroup(ctx, "developers", "Developers", []string{"10.1.0.0/16:tcp/443,22", "10.1.5.3:udp/53"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Rules, []string{"10.1.0.0/16:tcp/22,443", "10.1.5.3:udp/53"}) {
		t.Fatalf("rules: got %v, want canonical and sorted", g.Rules)
	}
	if _, err := f.a.AddGroup(ctx, "everyone", "", []string{"0.0.0.0/0"}, true); err != nil {
		t.Fatalf("0.0.0.0/0 with iMeanIt: %v", err)
	}
	if g, err = f.a.AllowRules(ctx, "developers", []string{"10.2.0.0/16:icmp"}, false); err != nil || len(g.Rules) != 3 {
		t.Fatalf("AllowRules: got %+v %v", g, err)
	}
	if g, err = f.a.DenyRules(ctx, "developers", []string{"10.1.5.3/32:UDP/53"}); err != nil || len(g.Rules) != 2 {
		t.Fatalf("DenyRules (in another spelling): got %+v %v", g, err)
	}
	if g, err = f.a.AddMembers(ctx, "developers", "alice", "bob"); err != nil || !slices.Equal(g.Members, []string{"alice", "bob"}) {
		t.Fatalf("AddMembers: got %+v %v", g, err)
	}
	if g, err = f.a.RemoveMembers(ctx, "developers", "bob"); err != nil || !slices.Equal(g.Members, []string{"alice"}) {
		t.Fatalf("RemoveMembers: got %+v %v", g, err)
	}
	list, err := f.a.Groups(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "developers" || list[1].Name != "everyone" {
		t.Fatalf("Groups: got %+v %v", list, err)
	}
	d, err := f.a.Show(ctx, "alice")
	if err != nil || !slices.Equal(d.Groups, []string{"developers"}) || len(d.Addresses) != 1 || d.Addresses[0].Address != "10.8.0.2" {
		t.Fatalf("Show: got groups %v addresses %+v %v", d.Groups, d.Addresses, err)
	}
	if err := f.a.RemoveGroup(ctx, "everyone"); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"group.add", "group.allow", "group.deny", "group.members.add", "group.members.remove", "group.remove"} {
		ev, err := f.a.Audit(ctx, AuditFilter{Action: action})
		if err != nil || len(ev) == 0 {
			t.Errorf("audit %s: got %v %v, want an event", action, ev, err)
		}
	}
	_, changes, err := f.a.Changes(ctx, v0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, c.Kind+":"+c.Subject)
	}
	if want := "group:developers"; slices.Index(kinds, want) < 0 || len(kinds) != 7 {
		t.Fatalf("changes: got %v, want 7 group changes (one per call)", kinds)
	}
}

// TestGroupBadInput: every refused call names the problem in one line,
// has the right kind, and changes no row.
func TestGroupBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice")
	if _, err := f.a.AddGroup(ctx, "developers", "", []string{"10.1.0.0/16:tcp/22"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AddMembers(ctx, "developers", "alice"); err != nil {
		t.Fatal(err)
	}
	cases := badGroupCases(t, f)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := rows(t, f)
			err := c.call()
			if err == nil {
				t.Fatal("got no error")
			}
			if k := fault.KindOf(err); k != c.kind || !strings.Contains(fault.Message(err), c.mention) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v %q, want %v naming %q in one line", k, err, c.kind, c.mention)
			}
			if after := rows(t, f); c.name != "fail/remove a non-member" && !maps.Equal(before, after) {
				t.Fatalf("rows: got %v, want %v (nothing changed)", after, before)
			}
		})
	}
}

func TestAddUserWithGroupsAndRoster(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	for _, g := range []string{"developers", "ops"} {
		if _, err := f.a.AddGroup(ctx, g, "", []string{"10.1.0.0/16"}, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice", Groups: []string{"developers", "ops"}}}, AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	if acc, err := f.a.UserAccess(ctx, "alice"); err != nil || !slices.Equal(acc.Groups, []string{"developers", "ops"}) {
		t.Fatalf("UserAccess: got %+v %v", acc, err)
	}
	ro, err := ReadRoster(strings.NewReader("user,groups\nbob,developers|ops\ncarol,ghosts\nalice,developers\ndave,\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.a.ImportRoster(ctx, ro, AddOptions{NoBundles: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Issued != 2 || rep.Unchanged != 1 || len(rep.Refused) != 1 || rep.Refused[0].User != "carol" || !strings.Contains(rep.Refused[0].Reason, "ghosts") {
		t.Fatalf("roster: got %+v, want bob and dave issued, alice unchanged, carol refused for ghosts", rep)
	}
	if _, err := f.a.Show(ctx, "carol"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("carol: got %v, want nothing on record", err)
	}
	if g, _ := f.a.Group(ctx, "ops"); !slices.Equal(g.Members, []string{"alice", "bob"}) {
		t.Fatalf("ops members: got %v, want alice, bob", g.Members)
	}
	// A row that only adds a membership is not unchanged.
	ro, _ = ReadRoster(strings.NewReader("user;groups\ndave;\"ops;developers\"\n"))
	if rep, err = f.a.ImportRoster(ctx, ro, AddOptions{NoBundles: true}); err != nil || rep.Unchanged != 0 {
		t.Fatalf("roster adding groups: got %+v %v", rep, err)
	}
	if acc, _ := f.a.UserAccess(ctx, "dave"); !slices.Equal(acc.Groups, []string{"developers", "ops"}) {
		t.Fatalf("dave: got %v, want developers, ops", acc.Groups)
	}
}

func TestAccessCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	if _, err := f.a.AddGroup(ctx, "developers", "", []string{"10.1.0.0/16:tcp/22,443"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice", Groups: []string{"developers"}}}, AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		"10.1.0.5:22/tcp":       "allowed by group developers (rule 10.1.0.0/16:tcp/22,443)",
		"10.9.9.9:22/tcp":       "denied: no group of alice allows 10.9.9.9:22/tcp",
		"10.1.0.5:22/udp":       "denied: no group of alice allows 10.1.0.5:22/udp",
		"10.1.0.5/icmp":         "denied: no group of alice allows 10.1.0.5/icmp",
		"[2001:db8::1]:443/TCP": "denied: no group of alice allows [2001:db8::1]:443/tcp",
	} {
		t.Run("ok/"+target, func(t *testing.T) {
			v, err := f.a.AccessCheck(ctx, "alice", target)
			if err != nil || v.String() != want {
				t.Fatalf("got %q %v, want %q", v, err, want)
			}
		})
	}
	for _, target := range []string{"10.1.0.5:22", "10.1.0.5/tcp", "host:22/tcp", "10.1.0.5:0/tcp", "10.1.0.5:22/sctp"} {
		t.Run("fail/"+target, func(t *testing.T) {
			if _, err := f.a.AccessCheck(ctx, "alice", target); fault.KindOf(err) != fault.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
		})
	}
	if _, err := f.a.AccessCheck(ctx, "nobody", "10.1.0.5:22/tcp"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("unknown user: got %v, want ErrUserNotFound", err)
	}
}

// newFixtureOn is newFixture on SQLite or on a fresh PostgreSQL database.
func newFixtureOn(t *testing.T, backend string) *fixture {
	t.Helper()
	if backend == "sqlite" {
		return newFixture(t, pki.P256)
	}
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, pgtest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts := Options{DataDir: dir, Company: "Example Ltd", Contact: "it@example.com"}
	a := New(db, opts)
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return &fixture{a: a, db: db, dir: dir, opts: opts}
}

// badCase is a refused call of TestGroupBadInput.
type badCase struct {
	name    string
	kind    fault.Kind
	mention string
	call    func() error
}

func badGroupCases(t *testing.T, f *fixture) []badCase {
	ctx := context.Background()
	return []badCase{
		{"fail/bad group name", fault.Invalid, "group name", func() error {
			_, err := f.a.AddGroup(ctx, "Dev Team", "", nil, false)
			return err
		}},
		{"fail/malformed cidr", fault.Invalid, "10.1.0.0/33", func() error {
			_, err := f.a.AddGroup(ctx, "ops", "", []string{"10.2.0.0/16", "10.1.0.0/33"}, false)
			return err
		}},
		{"fail/bad port", fault.Invalid, "70000", func() error {
			_, err := f.a.AllowRules(ctx, "developers", []string{"10.3.0.0/16:tcp/70000"}, false)
			return err
		}},
		{"fail/bad protocol", fault.Invalid, "sctp", func() error {
			_, err := f.a.AllowRules(ctx, "developers", []string{"10.3.0.0/16:sctp"}, false)
			return err
		}},
		{"fail/everything without iMeanIt", fault.Invalid, "0.0.0.0/0", func() error {
			_, err := f.a.AddGroup(ctx, "ops", "", []string{"0.0.0.0/0"}, false)
			return err
		}},
		{"fail/everything v6 in a change", fault.Invalid, "::/0", func() error {
			_, err := f.a.AllowRules(ctx, "developers", []string{"10.9.0.0/16", "::/0"}, false)
			return err
		}},
		{"fail/existing group", fault.Conflict, "developers", func() error {
			_, err := f.a.AddGroup(ctx, "developers", "", nil, false)
			return err
		}},
		{"fail/unknown group allow", fault.NotFound, "nope", func() error {
			_, err := f.a.AllowRules(ctx, "nope", []string{"10.3.0.0/16"}, false)
			return err
		}},
		{"fail/deny a rule not there", fault.NotFound, "10.7.0.0/16", func() error {
			_, err := f.a.EditGroup(ctx, GroupChange{Name: "developers", Allow: []string{"10.9.0.0/16"}, Deny: []string{"10.7.0.0/16"}})
			return err
		}},
		{"fail/unknown member", fault.NotFound, "mallory", func() error {
			_, err := f.a.AddMembers(ctx, "developers", "alice", "mallory")
			return err
		}},
		{"fail/bad member name", fault.Invalid, "name", func() error {
			_, err := f.a.AddMembers(ctx, "developers", "../x")
			return err
		}},
		{"fail/remove a non-member", fault.NotFound, "not in group", func() error {
			f.add(t, AddOptions{NoBundles: true}, "bob")
			before := rows(t, f)
			_, err := f.a.RemoveMembers(ctx, "developers", "alice", "bob")
			if after := rows(t, f); !maps.Equal(before, after) {
				t.Errorf("rows: got %v, want %v", after, before)
			}
			return err
		}},
		{"fail/remove unknown group", fault.NotFound, "nope", func() error { return f.a.RemoveGroup(ctx, "nope") }},
		{"fail/description with a control character", fault.Invalid, "description", func() error {
			_, err := f.a.AddGroup(ctx, "ops", "a\x1bb", nil, false)
			return err
		}},
		{"fail/nothing to change", fault.Invalid, "nothing to change", func() error {
			_, err := f.a.EditGroup(ctx, GroupChange{Name: "developers"})
			return err
		}},
		{"fail/add user to unknown group", fault.NotFound, "ghosts", func() error {
			_, err := f.a.AddUsers(ctx, []UserRequest{{Name: "carol", Groups: []string{"developers", "ghosts"}}}, AddOptions{NoBundles: true})
			return err
		}},
		{"fail/add user with bad group name", fault.Invalid, "group", func() error {
			_, err := f.a.AddUsers(ctx, []UserRequest{{Name: "carol", Groups: []string{"Bad Group"}}}, AddOptions{NoBundles: true})
			return err
		}},
	}
}
