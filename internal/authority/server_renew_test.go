package authority

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// renewWorld is an initialised authority on dsn with a clock the test
// moves and servers dc1 (825 days), dc2 (90 days) and dc3 (400 days);
// dc1 and dc2 got their certificates by a render, dc3 has none yet.
func renewWorld(t *testing.T, dsn string) (*Authority, *testClock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &testClock{t: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)}
	a := New(db, Options{DataDir: t.TempDir(), Now: clk.Now})
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []ServerRequest{{Name: "dc1"}, {Name: "dc2", Days: 90}, {Name: "dc3", Days: 400}} {
		s.Remote = s.Name + ".example.com:1194"
		if _, err := a.AddServer(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"dc1", "dc2"} {
		if _, err := a.ServerFiles(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return a, clk
}

// serverCerts counts the certificates ever issued to server name.
func serverCerts(t *testing.T, a *Authority, name string) int {
	t.Helper()
	var n int
	err := a.db.SQL().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM certificates WHERE kind = 'server' AND subject = $1`, name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRenewServerCerts: with the clock moved 70 days on, exactly the due
// servers are renewed (dc2, 20 days left of 90; dc3, which had none), the
// outbox version grows, each renewal is audited once, and a second run
// renews nothing. On SQLite and PostgreSQL.
func TestRenewServerCerts(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run("ok/"+backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "vpnkeys.db")
			if backend == "postgres" {
				dsn = pgtest.Start(t)
			}
			a, clk := renewWorld(t, dsn)
			if got, err := a.RenewServerCerts(ctx); err != nil || len(got) != 1 || got[0] != "dc3" {
				t.Fatalf("at once: got %v %v, want [dc3] (it had none)", got, err)
			}
			old, err := a.db.Q().ActiveCert(ctx, store.KindServer, "dc2")
			if err != nil {
				t.Fatal(err)
			}
			before, _ := a.db.Q().Version(ctx)
			clk.Add(70 * 24 * time.Hour)
			got, err := a.RenewServerCerts(ctx)
			if err != nil || !slices.Equal(got, []string{"dc2"}) {
				t.Fatalf("70 days on: got %v %v, want [dc2]", got, err)
			}
			after, _ := a.db.Q().Version(ctx)
			if after <= before {
				t.Fatalf("version: got %d, want more than %d", after, before)
			}
			cur, err := a.db.Q().ActiveCert(ctx, store.KindServer, "dc2")
			if err != nil || cur.Serial == old.Serial || !cur.NotAfter.After(old.NotAfter) {
				t.Fatalf("dc2's certificate: got %s until %v, want a new one after %v", cur.Serial, cur.NotAfter, old.NotAfter)
			}
			if c, _ := a.db.Q().CertBySerial(ctx, old.Serial); c.State != store.StateSuperseded {
				t.Fatalf("old certificate state: got %s, want superseded", c.State)
			}
			ev, err := a.Audit(ctx, AuditFilter{Action: "server.renew"})
			if err != nil || len(ev) != 1 || ev[0].Target != "dc2" {
				t.Fatalf("server.renew events: got %+v %v, want one for dc2", ev, err)
			}
			// The agents' state of dc2 carries the new certificate.
			files, err := a.ServerFiles(ctx, "dc2")
			if err != nil {
				t.Fatal(err)
			}
			if string(files[2].Data) != cur.CertPEM {
				t.Fatalf("dc2's server.crt is not the renewed certificate")
			}
			if got, err := a.RenewServerCerts(ctx); err != nil || len(got) != 0 {
				t.Fatalf("again: got %v %v, want nothing renewed", got, err)
			}
			if n := serverCerts(t, a, "dc1"); n != 1 {
				t.Fatalf("dc1 certificates: got %d, want 1 (not due)", n)
			}
		})
	}
}

// TestRenewServerCertsRace: two instances on one PostgreSQL database,
// each with its own connections, renew the same due servers at once:
// each server gets exactly one new certificate, renewed by one of them.
func TestRenewServerCertsRace(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	a, clk := renewWorld(t, dsn)
	if _, err := a.RenewServerCerts(ctx); err != nil { // dc3 gets its first
		t.Fatal(err)
	}
	dbB, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dbB.Close() })
	b := New(dbB, Options{DataDir: t.TempDir(), Now: clk.Now})
	if err := b.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
		t.Fatal(err)
	}
	clk.Add(800 * 24 * time.Hour) // every server is due
	for round := range 3 {
		var wg sync.WaitGroup
		var got [2][]string
		var errs [2]error
		for i, x := range []*Authority{a, b} {
			wg.Go(func() { got[i], errs[i] = x.RenewServerCerts(ctx) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v / %v", round, errs[0], errs[1])
		}
		all := append(append([]string{}, got[0]...), got[1]...)
		slices.Sort(all)
		if !slices.Equal(all, []string{"dc1", "dc2", "dc3"}) {
			t.Fatalf("round %d: renewed by A %v and by B %v, want each server once", round, got[0], got[1])
		}
		for _, n := range []string{"dc1", "dc2", "dc3"} {
			if c := serverCerts(t, a, n); c != round+2 {
				t.Fatalf("round %d: %s has %d certificates, want %d", round, n, c, round+2)
			}
		}
		clk.Add(800 * 24 * time.Hour)
	}
}
