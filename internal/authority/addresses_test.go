package authority

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestAddressPool: lowest free first, kept across renewals, freed by
// RemoveUser; a full pool refuses with nothing made.
func TestAddressPool(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn1.example.com:1194", Subnet: "10.8.0.0/29"}); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{NoBundles: true}, "u1", "u2", "u3", "u4", "u5")
	addrs, err := f.a.Addresses(ctx, "dc1")
	if err != nil || len(addrs) != 5 || addrs[0].Address != "10.8.0.2" || addrs[4].Address != "10.8.0.6" {
		t.Fatalf("Addresses: got %+v %v, want .2 to .6", addrs, err)
	}
	before := rows(t, f)
	_, err = f.a.AddUsers(ctx, []UserRequest{{Name: "u6"}}, AddOptions{})
	if !errors.Is(err, ErrPoolFull) || !strings.Contains(fault.Message(err), "server dc1's pool 10.8.0.0/29 is full (5 addresses") {
		t.Fatalf("sixth user: got %v, want the pool full", err)
	}
	if after := rows(t, f); !maps.Equal(before, after) {
		t.Fatalf("rows after a full pool: got %v, want %v", after, before)
	}
	f.add(t, AddOptions{NoBundles: true, NewKey: true}, "u3")
	if acc, _ := f.a.UserAccess(ctx, "u3"); len(acc.Addresses) != 1 || acc.Addresses[0].Address != "10.8.0.4" {
		t.Fatalf("u3 after renewal: got %+v, want 10.8.0.4 kept", acc.Addresses)
	}
	if _, err := f.a.RemoveUser(ctx, "u2", "", ""); err != nil {
		t.Fatal(err)
	}
	if acc, _ := f.a.UserAccess(ctx, "u2"); len(acc.Addresses) != 0 {
		t.Fatalf("u2 after remove: got %+v, want no address", acc.Addresses)
	}
	f.add(t, AddOptions{NoBundles: true}, "u6")
	if acc, _ := f.a.UserAccess(ctx, "u6"); len(acc.Addresses) != 1 || acc.Addresses[0].Address != "10.8.0.3" {
		t.Fatalf("u6: got %+v, want the freed 10.8.0.3", acc.Addresses)
	}
	// A second server gives every active user an address, or nothing.
	if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Subnet: "10.9.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	if a2, _ := f.a.Addresses(ctx, "dc2"); len(a2) != 5 {
		t.Fatalf("dc2: got %+v, want the 5 active users", a2)
	}
	// Shrinking dc2 keeps the addresses inside; a subnet too small is refused.
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", Subnet: "10.7.0.0/29"}); err != nil {
		t.Fatal(err)
	}
	if a2, _ := f.a.Addresses(ctx, "dc2"); len(a2) != 5 || a2[0].Address != "10.7.0.2" {
		t.Fatalf("dc2 reseated: got %+v, want 10.7.0.2 upward", a2)
	}
	if _, err := f.a.RemoveServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{NoBundles: true}, "u1")
	if n := rows(t, f)["addresses"]; n != 5 {
		t.Fatalf("addresses after removing dc2: got %d, want the 5 on dc1", n)
	}
}

// TestAddressesConcurrent: two processes adding users at once on the
// same servers never share an address, on SQLite and PostgreSQL.
func TestAddressesConcurrent(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			f := newFixtureOn(t, backend)
			f.addServer(t, "dc1", "vpn1.example.com:1194")
			f.addServer(t, "dc2", "vpn2.example.com:1194")
			auths := []*Authority{f.reopen(), f.reopen()}
			errs := make(chan error, len(auths))
			for i, a := range auths {
				if err := a.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
					t.Fatal(err)
				}
				go func() {
					var reqs []UserRequest
					for j := range 6 {
						reqs = append(reqs, UserRequest{Name: fmt.Sprintf("p%d-u%d", i, j)})
					}
					_, err := a.AddUsers(ctx, reqs, AddOptions{NoBundles: true})
					errs <- err
				}()
			}
			for range auths {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []string{"dc1", "dc2"} {
				list, err := f.a.Addresses(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]string{}
				for _, a := range list {
					if other, dup := seen[a.Address]; dup {
						t.Fatalf("%s: %s given to %s and %s", s, a.Address, other, a.User)
					}
					seen[a.Address] = a.User
				}
				if len(list) != 12 || seen["10.8.0.2"] == "" || seen["10.8.0.13"] == "" {
					t.Fatalf("%s: got %+v, want 12 addresses .2 to .13", s, list)
				}
			}
		})
	}
}

// TestEnsureAddresses: users onboarded before fixed addresses existed get
// theirs, once; a second call changes nothing.
func TestEnsureAddresses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob")
	if _, err := f.db.SQL().Exec(`DELETE FROM addresses`); err != nil { // as before migration 0009
		t.Fatal(err)
	}
	n, err := f.a.EnsureAddresses(ctx)
	if err != nil || n != 2 {
		t.Fatalf("EnsureAddresses: got %d %v, want 2", n, err)
	}
	before := rows(t, f)
	if n, err := f.a.EnsureAddresses(ctx); err != nil || n != 0 {
		t.Fatalf("EnsureAddresses again: got %d %v, want 0", n, err)
	}
	if after := rows(t, f); !maps.Equal(before, after) {
		t.Fatalf("rows after a second call: got %v, want %v", after, before)
	}
	if list, _ := f.a.Addresses(ctx, "dc1"); len(list) != 2 || list[0].Address != "10.8.0.2" || list[1].Address != "10.8.0.3" {
		t.Fatalf("Addresses: got %+v, want alice .2, bob .3", list)
	}
}

// TestPoolCheckedFirst: a call that needs more addresses than a pool has
// free issues nothing, even when its first batch would fit.
func TestPoolCheckedFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn1.example.com:1194", Subnet: "10.8.0.0/29"}); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{NoBundles: true}, "u1", "u2")
	before := rows(t, f)
	reqs := []UserRequest{{Name: "u1"}, {Name: "u3"}, {Name: "u4"}, {Name: "u5"}, {Name: "u6"}}
	_, err := f.a.AddUsers(ctx, reqs, AddOptions{NoBundles: true})
	if !errors.Is(err, ErrPoolFull) || !strings.Contains(fault.Message(err), "3 free, 4 needed") {
		t.Fatalf("got %v, want the pool full: 3 free, 4 needed", err)
	}
	if after := rows(t, f); !maps.Equal(before, after) {
		t.Fatalf("rows: got %v, want %v", after, before)
	}
	if _, err := f.a.AddUsers(ctx, reqs[:4], AddOptions{NoBundles: true}); err != nil {
		t.Fatalf("u1 (has one) and three new ones in three free: %v", err)
	}
	// A new server too small for the active users is not added.
	f.addServer(t, "big", "vpn2.example.com:1194")
	if _, err := f.a.RemoveServer(ctx, "dc1"); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{NoBundles: true}, "u7", "u8")
	before = rows(t, f)
	_, err = f.a.AddServer(ctx, ServerRequest{Name: "small", Remote: "vpn3.example.com:1194", Subnet: "10.7.0.0/29"})
	if !errors.Is(err, ErrPoolFull) || !strings.Contains(fault.Message(err), "server small's pool 10.7.0.0/29 is full (5 addresses)") {
		t.Fatalf("small server: got %v, want its pool full", err)
	}
	if after := rows(t, f); !maps.Equal(before, after) {
		t.Fatalf("rows: got %v, want %v", after, before)
	}
}
