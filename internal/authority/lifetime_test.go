package authority

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testClock is the injected clock (Options.Now) of these tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newClockFixture is an authority on a fresh SQLite database whose clock
// the test moves, with a CA of caDays and server dc1.
func newClockFixture(t testing.TB, caDays, leafDays int) (*fixture, *testClock) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &testClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts := Options{DataDir: dir, Now: clk.Now, LeafDays: leafDays}
	a := New(db, opts)
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Days: caDays, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	f := &fixture{a: a, db: db, dir: dir, opts: opts}
	f.addServer(t, "dc1", "vpn.example.com:1194")
	return f, clk
}

// snapshot counts what a refused request must leave alone: every
// certificate row (serials are drawn when signing, so no new row means no
// serial spent), users, servers, the audit log, changes and the CRL number.
func snapshot(t testing.TB, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for name, q := range map[string]string{
		"certificates": `SELECT COUNT(*) FROM certificates`, "users": `SELECT COUNT(*) FROM users`,
		"servers": `SELECT COUNT(*) FROM servers`, "audit": `SELECT COUNT(*) FROM audit`,
		"changes": `SELECT COUNT(*) FROM changes`, "crl_number": `SELECT COALESCE(MAX(number), 0) FROM crl`,
	} {
		var n int64
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[name] = n
	}
	return out
}

func sameSnapshot(t testing.TB, before, after map[string]int64) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: got %d after the refusal, want %d (nothing changed)", k, after[k], v)
		}
	}
}

// TestLifetimeRefused: every bad lifetime is refused as invalid input, with
// one line naming the problem, and changes nothing.
func TestLifetimeRefused(t *testing.T) {
	ctx := context.Background()
	f, _ := newClockFixture(t, 800, 0) // the CA ends on 2028-03-11
	f.add(t, AddOptions{NoBundles: true}, "alice")
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"fail/add zero", func() error { return addDays(f, "bob", 0, true) }, "1 to 3650"},
		{"fail/add negative", func() error { return addDays(f, "bob", -5, false) }, "days -5"},
		{"fail/add above 3650", func() error { return addDays(f, "bob", 3651, false) }, "1 to 3650"},
		{"fail/add outlives CA", func() error { return addDays(f, "bob", 801, false) }, "expires on 2028-03-11; at most 800 days fit"},
		{"fail/renew outlives CA", func() error {
			_, err := f.a.Renew(ctx, "alice", AddOptions{NoBundles: true, Days: 2000})
			return err
		}, "outlive the CA"},
		{"fail/renew negative", func() error {
			_, err := f.a.Renew(ctx, "alice", AddOptions{NoBundles: true, Days: -1})
			return err
		}, "days -1"},
		{"fail/server outlives CA", func() error {
			_, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: 1500})
			return err
		}, "outlive the CA"},
		{"fail/server negative", func() error {
			_, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: -30})
			return err
		}, "days -30"},
		{"fail/server above 3650", func() error {
			_, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: 99999})
			return err
		}, "1 to 3650"},
		{"fail/configured cert_days outlives CA", func() error {
			a := New(f.db, Options{DataDir: f.dir, Now: f.opts.Now, LeafDays: 3000})
			if err := a.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
				return err
			}
			_, err := a.AddUsers(ctx, []UserRequest{{Name: "bob"}}, AddOptions{NoBundles: true})
			return err
		}, "at most 800 days fit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, f.db)
			err := c.run()
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %q, want one line containing %q", err, c.want)
			}
			sameSnapshot(t, before, snapshot(t, f.db))
		})
	}
}

// addDays adds user name with lifetime days; zero says "0 given" through
// ValidLeafDays, as the CLI and the API do for an explicit 0.
func addDays(f *fixture, name string, days int, zero bool) error {
	if zero {
		return ValidLeafDays(days)
	}
	_, err := f.a.AddUsers(context.Background(), []UserRequest{{Name: name}}, AddOptions{NoBundles: true, Days: days})
	return err
}

// TestLifetimeIssued: an explicit lifetime is what the certificate gets,
// up to the CA's end; the default alone is still cut at the CA's end.
func TestLifetimeIssued(t *testing.T) {
	ctx := context.Background()
	f, clk := newClockFixture(t, 800, 0) // shorter than the default 825
	now := clk.Now()
	caEnd := now.AddDate(0, 0, 800)
	cases := []struct {
		name string
		days int
		want time.Time
	}{
		{"ok/explicit 30", 30, now.AddDate(0, 0, 30)},
		{"ok/largest that fits", 800, caEnd},
		{"ok/default cut at the CA's end", 0, caEnd},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := []string{"ann", "ben", "cat"}[i]
			res, err := f.a.AddUsers(ctx, []UserRequest{{Name: name}}, AddOptions{NoBundles: true, Days: c.days})
			if err != nil {
				t.Fatal(err)
			}
			if d := res[0].Expires.Sub(c.want); d < -time.Second || d > time.Second {
				t.Errorf("expires: got %v, want %v", res[0].Expires, c.want)
			}
		})
	}
	t.Run("ok/server days kept for its certificate", func(t *testing.T) {
		if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: 90}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.ServerFiles(ctx, "dc2"); err != nil {
			t.Fatal(err)
		}
		c, err := f.db.Q().ActiveCert(ctx, store.KindServer, "dc2")
		if err != nil {
			t.Fatal(err)
		}
		if want := now.AddDate(0, 0, 90); !c.NotAfter.Equal(want) {
			t.Errorf("server certificate ends: got %v, want %v", c.NotAfter, want)
		}
	})
}

// TestCADays: init refuses a CA lifetime out of range, creating nothing.
func TestCADays(t *testing.T) {
	ctx := context.Background()
	for _, days := range []int{-1, 36501} {
		t.Run("fail/"+strconv.Itoa(days), func(t *testing.T) {
			db, err := store.Open(ctx, filepath.Join(t.TempDir(), "vpnkeys.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			a := New(db, Options{})
			err = a.Init(ctx, InitRequest{Algo: pki.P256, Days: days, NoPassphrase: true})
			if !errors.Is(err, account.ErrInvalid) || !strings.Contains(err.Error(), "1 to 36500") {
				t.Fatalf("got %v, want the CA's lifetime refused", err)
			}
			if ok, _ := a.Initialized(ctx); ok {
				t.Error("got a CA, want none")
			}
		})
	}
	t.Run("ok/36500", func(t *testing.T) {
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "vpnkeys.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := New(db, Options{}).Init(ctx, InitRequest{Algo: pki.P256, Days: 36500, NoPassphrase: true}); err != nil {
			t.Fatalf("got %v, want a CA of 100 years", err)
		}
	})
}

// TestShortServerCertKept: a server certificate of a few days is kept
// across renders of the server's files until a third of it is left, then
// renewed with the same lifetime.
func TestShortServerCertKept(t *testing.T) {
	ctx := context.Background()
	f, clk := newClockFixture(t, 3650, 0)
	if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: 6}); err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		t.Helper()
		if _, err := f.a.ServerFiles(ctx, "dc2"); err != nil {
			t.Fatal(err)
		}
		c, err := f.db.Q().ActiveCert(ctx, store.KindServer, "dc2")
		if err != nil {
			t.Fatal(err)
		}
		return c.Serial
	}
	first := serial()
	clk.Add(3 * 24 * time.Hour)
	if got := serial(); got != first {
		t.Fatalf("day 3: got serial %s, want %s kept", got, first)
	}
	clk.Add(2 * 24 * time.Hour)
	if got := serial(); got == first {
		t.Fatalf("day 5: got serial %s kept, want a renewal", got)
	}
}
