package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testGroups: groups with rules and members, removed with everything of
// theirs; a member must be a user.
func testGroups(t *testing.T, db *store.DB) {
	q := db.Q()
	for _, n := range []string{"alice", "bob"} {
		if err := q.UpsertUser(ctx, store.User{Name: n, OS: "linux", Lang: "en", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.InsertGroup(ctx, store.Group{Name: "ops", Description: "Ops", CreatedAt: t0, Rules: []string{"10.2.0.0/16"}}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertGroup(ctx, store.Group{Name: "developers", CreatedAt: t0, Rules: []string{"10.1.0.0/16:tcp/22", "10.1.5.3:udp/53"}}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertGroup(ctx, store.Group{Name: "ops", CreatedAt: t0}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate group: got %v, want ErrExists", err)
	}
	if added, err := q.AddGroupRule(ctx, "ops", "10.2.0.0/16"); err != nil || added {
		t.Fatalf("AddGroupRule of a rule already there: got %v %v, want false", added, err)
	}
	for _, m := range [][2]string{{"developers", "alice"}, {"developers", "bob"}, {"ops", "alice"}} {
		if added, err := q.AddGroupMember(ctx, m[0], m[1]); err != nil || !added {
			t.Fatalf("AddGroupMember %v: got %v %v", m, added, err)
		}
	}
	if added, _ := q.AddGroupMember(ctx, "ops", "alice"); added {
		t.Fatalf("AddGroupMember twice: got added, want false")
	}
	if _, err := q.AddGroupMember(ctx, "ops", "nobody"); err == nil {
		t.Fatalf("AddGroupMember of no such user: got nil, want a foreign key error")
	}
	list, err := q.ListGroups(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "developers" || !slices.Equal(list[0].Members, []string{"alice", "bob"}) ||
		!slices.Equal(list[0].Rules, []string{"10.1.0.0/16:tcp/22", "10.1.5.3:udp/53"}) || list[1].Description != "Ops" {
		t.Fatalf("ListGroups: got %+v %v", list, err)
	}
	if gs, err := q.UserGroups(ctx, "alice"); err != nil || !slices.Equal(gs, []string{"developers", "ops"}) {
		t.Fatalf("UserGroups: got %v %v, want developers, ops", gs, err)
	}
	if err := q.DeleteGroup(ctx, "developers"); err != nil {
		t.Fatal(err)
	}
	if err := q.DeleteGroup(ctx, "developers"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteGroup twice: got %v, want ErrNotFound", err)
	}
	var left int
	if err := db.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM group_rules WHERE grp = 'developers') + (SELECT COUNT(*) FROM group_members WHERE grp = 'developers')`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("rows of a removed group: got %d %v, want 0", left, err)
	}
	if gs, err := q.DeleteUserMemberships(ctx, "alice"); err != nil || !slices.Equal(gs, []string{"ops"}) {
		t.Fatalf("DeleteUserMemberships: got %v %v, want ops", gs, err)
	}
	if g, err := q.GetGroup(ctx, "ops"); err != nil || len(g.Members) != 0 || len(g.Rules) != 1 {
		t.Fatalf("GetGroup: got %+v %v", g, err)
	}
	if _, err := q.GetGroup(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetGroup of none: got %v, want ErrNotFound", err)
	}
}

// testAddresses: an address is unique per server, even when two
// transactions take the same one at once (one loses with ErrConflict).
func testAddresses(t *testing.T, db *store.DB) {
	q := db.Q()
	for _, n := range []string{"alice", "bob"} {
		if err := q.UpsertUser(ctx, store.User{Name: n, OS: "linux", Lang: "en", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"dc1", "dc2"} {
		if err := q.InsertServer(ctx, store.Server{Name: s, Host: s, Port: 1194, Proto: "udp", Subnet: "10.8.0.0/24", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.InsertAddress(ctx, store.Address{Server: "dc1", User: "alice", Address: "10.8.0.2"}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertAddress(ctx, store.Address{Server: "dc2", User: "alice", Address: "10.8.0.2"}); err != nil {
		t.Fatalf("the same address on another server: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, u := range []string{"bob", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.WithTx(ctx, func(q *store.Queries) error {
				return q.InsertAddress(ctx, store.Address{Server: "dc1", User: u, Address: "10.8.0.2"})
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("taking a taken address: got %v, want ErrConflict", err)
		}
	}
	if err := db.WithTx(ctx, func(q *store.Queries) error {
		return q.InsertAddress(ctx, store.Address{Server: "dc1", User: "alice", Address: "10.8.0.3"})
	}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second address for a user: got %v, want ErrConflict", err)
	}
	if as, err := q.UserAddresses(ctx, "alice"); err != nil || len(as) != 2 || as[0].Server != "dc1" {
		t.Fatalf("UserAddresses: got %+v %v", as, err)
	}
	if err := q.DeleteServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	if as, _ := q.UserAddresses(ctx, "alice"); len(as) != 1 {
		t.Fatalf("addresses after removing dc2: got %+v, want the one on dc1", as)
	}
	if n, err := q.DeleteUserAddresses(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("DeleteUserAddresses: got %d %v, want 1", n, err)
	}
	if as, _ := q.ServerAddresses(ctx, "dc1"); len(as) != 0 {
		t.Fatalf("ServerAddresses after freeing: got %+v, want none", as)
	}
}
