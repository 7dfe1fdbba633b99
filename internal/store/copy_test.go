package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestCopy moves a company from SQLite to PostgreSQL and back; the CA
// unlocks on the copy, the users and their history are all there.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := open(t, filepath.Join(dir, "src.db"))
	a := authority.New(src, authority.Options{DataDir: dir})
	if err := a.Init(ctx, authority.InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase("copy pass")}); err != nil {
		t.Fatal(err)
	}
	a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "vpn.example.com:1194"})
	if _, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob"}, {Name: "carol"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	a.Revoke(ctx, "bob", "key-compromise")
	a.CreateToken(ctx, "ci")
	a.CreateLink(ctx, "alice", 0)

	pg := open(t, pgtest.Start(t))
	counts, err := store.Copy(ctx, src, pg)
	if err != nil {
		t.Fatal(err)
	}
	if counts["users"] != 3 || counts["certificates"] != 3 || counts["crl_number"] < 2 || counts["audit"] < 5 {
		t.Fatalf("counts: %v", counts)
	}
	if _, err := store.Copy(ctx, src, pg); err == nil {
		t.Fatal("copy into a database with a CA: got nil error")
	}
	onPG := authority.New(pg, authority.Options{DataDir: t.TempDir()})
	if err := onPG.Unlock(ctx, pki.Passphrase("copy pass")); err != nil {
		t.Fatalf("unlock on the copy: %v", err)
	}
	if d, err := onPG.Show(ctx, "bob"); err != nil || d.Status != "revoked" {
		t.Fatalf("bob on the copy: %+v %v", d, err)
	}
	if _, err := onPG.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{}); err != nil {
		t.Fatalf("re-rendering alice on the copy: %v", err)
	}

	back := open(t, filepath.Join(dir, "back.db"))
	if _, err := store.Copy(ctx, pg, back); err != nil {
		t.Fatalf("copy back: %v", err)
	}
	if err := authority.New(back, authority.Options{DataDir: t.TempDir()}).Unlock(ctx, pki.Passphrase("copy pass")); err != nil {
		t.Fatalf("unlock after the round trip: %v", err)
	}
}
