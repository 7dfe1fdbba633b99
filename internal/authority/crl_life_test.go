package authority

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// clocked is an authority on a fresh database whose clock the test sets.
func clocked(t *testing.T, crlDays int) (*Authority, *clock, *store.DB) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	a := New(db, Options{DataDir: dir, Now: c.now, CRLDays: crlDays})
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatal(err)
	}
	return a, c, db
}

// TestCRLLifetime: the CRL is valid CRLDays (30 by default, 3650 on
// request) from its signing, and its thisUpdate lies 5 minutes before it,
// in the CRL itself as OpenVPN reads it.
func TestCRLLifetime(t *testing.T) {
	for _, tc := range []struct {
		name string
		days int
		want int
	}{{"ok/default", 0, 30}, {"ok/ten years", 3650, 3650}, {"ok/one day", 1, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			a, c, _ := clocked(t, tc.days)
			info, err := a.CRL(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			signed := c.now()
			blk, _ := pem.Decode(info.PEM)
			if blk == nil {
				t.Fatal("crl.pem: no PEM block")
			}
			rl, err := x509.ParseRevocationList(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if want := signed.Add(-5 * time.Minute); !rl.ThisUpdate.Equal(want) || !info.ThisUpdate.Equal(want) {
				t.Errorf("thisUpdate: got %v (stored %v), want %v", rl.ThisUpdate, info.ThisUpdate, want)
			}
			if want := signed.AddDate(0, 0, tc.want); !rl.NextUpdate.Equal(want) || !info.NextUpdate.Equal(want) {
				t.Errorf("nextUpdate: got %v (stored %v), want %v", rl.NextUpdate, info.NextUpdate, want)
			}
		})
	}
}

// TestSyncCRLResigns: serve's periodic SyncCRL signs the CRL again once it
// is a day old, or past two thirds of a short lifetime, and not before.
func TestSyncCRLResigns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		days   int
		after  time.Duration
		resign bool
	}{
		{"ok/fresh", 30, time.Hour, false},
		{"ok/almost a day", 30, 24*time.Hour - 5*time.Minute - time.Second, false},
		{"ok/a day old", 30, 24*time.Hour - 5*time.Minute, true},
		{"ok/ten years, a day old", 3650, 25 * time.Hour, true},
		{"ok/one day, two thirds", 1, 17 * time.Hour, true},
		{"ok/one day, half", 1, 12 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, c, _ := clocked(t, tc.days)
			before, err := a.CRL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c.set(c.now().Add(tc.after))
			after, err := a.SyncCRL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := after.Number > before.Number; got != tc.resign {
				t.Fatalf("re-signed after %v: got %v (number %d -> %d), want %v", tc.after, got, before.Number, after.Number, tc.resign)
			}
			if tc.resign && !after.NextUpdate.Equal(c.now().AddDate(0, 0, tc.days)) {
				t.Errorf("new nextUpdate: got %v, want %v", after.NextUpdate, c.now().AddDate(0, 0, tc.days))
			}
		})
	}
}

// TestServerFilesRunDir: the run folder of Options lands in server.conf
// and the hook; the hook is written 0755.
func TestServerFilesRunDir(t *testing.T) {
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn.example.com:1194")
	a := New(f.db, Options{DataDir: f.dir, AgentRunDir: "/run/agent-test"})
	if err := a.Unlock(context.Background(), pki.Passphrase(testPass)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "srv")
	if err := a.WriteServerFiles(context.Background(), "dc1", dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, filepath.Join(dir, ovpn.SessionHookName)); m != 0o755 {
		t.Errorf("hook mode: got %04o, want 0755", m)
	}
	conf := string(readFile(t, filepath.Join(dir, "server.conf")))
	hook := string(readFile(t, filepath.Join(dir, ovpn.SessionHookName)))
	for _, want := range []string{"management /run/agent-test/dc1.sock unix\n", "client-connect ./vpnkeys-session.sh\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("server.conf lacks %q", want)
		}
	}
	if !strings.Contains(hook, "d='/run/agent-test/dc1.sessions'\n") {
		t.Errorf("hook:\n%s", hook)
	}
}
