package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

func TestParseWindow(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.Local) }
	for _, tc := range []struct {
		spec     string
		in, out  []time.Time
		nextFrom time.Time
		next     time.Time
	}{
		{"02:00-04:00", []time.Time{at(2, 0), at(3, 59)}, []time.Time{at(1, 59), at(4, 0), at(12, 0)}, at(5, 0), at(26, 0)},
		{"23:00-02:00", []time.Time{at(23, 0), at(0, 30), at(1, 59)}, []time.Time{at(2, 0), at(12, 0), at(22, 59)}, at(12, 0), at(23, 0)},
	} {
		t.Run("ok/"+tc.spec, func(t *testing.T) {
			w, err := ParseWindow(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range tc.in {
				if !w.Contains(x) {
					t.Errorf("%s: got outside, want inside", x.Format("15:04"))
				}
			}
			for _, x := range tc.out {
				if w.Contains(x) {
					t.Errorf("%s: got inside, want outside", x.Format("15:04"))
				}
			}
			if got := w.NextOpen(tc.nextFrom); !got.Equal(tc.next) {
				t.Errorf("next opening after %s: got %s, want %s", tc.nextFrom, got, tc.next)
			}
		})
	}
	if w, err := ParseWindow(""); w != nil || err != nil {
		t.Errorf("empty: got %v %v, want no window", w, err)
	}
	for _, bad := range []string{"2:00-4:00", "25:00-01:00", "02:00-02:00", "02:00", "02:60-03:00", "ab:cd-01:00", "02:00-04:00-05:00"} {
		t.Run("fail/"+bad, func(t *testing.T) {
			if _, err := ParseWindow(bad); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// fakeClock is the agent's injected clock in these tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// windowRig is TestRestartWindow's agent: a server folder, a state folder
// and a restart command that appends to marks, on an injected clock.
type windowRig struct {
	t                    *testing.T
	dir, stateDir, marks string
	clk                  *fakeClock
	ca                   *pki.CA
	version              int64
	ap                   *Applier
}

func newWindowRig(t *testing.T, day time.Time) *windowRig {
	k, _ := pki.GenerateKey(pki.P256)
	ca, err := pki.NewCA(k, "Test CA", 3650, day.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := &windowRig{t: t, dir: filepath.Join(t.TempDir(), "server"), stateDir: t.TempDir(),
		marks: filepath.Join(t.TempDir(), "restarts"), clk: &fakeClock{t: day.Add(10 * time.Hour)}, ca: ca}
	r.restartAgent()
	return r
}

// restartAgent is a new agent process: it reads restart-pending.json.
func (r *windowRig) restartAgent() {
	w, _ := ParseWindow("02:00-04:00")
	g, err := NewGate(w, r.stateDir, r.clk.now)
	if err != nil {
		r.t.Fatal(err)
	}
	r.ap = &Applier{Dir: r.dir, RestartCommand: "echo restart >> " + r.marks, Now: r.clk.now, Gate: g}
}

// certFor is a server certificate that ends at end.
func (r *windowRig) certFor(end time.Time) string {
	c, err := r.ca.Issue(pki.Leaf{Role: pki.Server, CommonName: "dc1", PublicKey: r.ca.Key.Public(), Days: 1, Now: end.AddDate(0, 0, -1)})
	if err != nil {
		r.t.Fatal(err)
	}
	return string(pki.CertPEM(c))
}

// apply applies the next version with these files.
func (r *windowRig) apply(t *testing.T, cert, caPEM, crl string) Applied {
	t.Helper()
	r.version++
	st := agentwire.State{Server: "dc1", Version: r.version, Files: []agentwire.File{
		file("server.conf", 0o644, "port 1194\n"), file("server.crt", 0o644, cert), file("ca.crt", 0o644, caPEM),
		file("crl.pem", 0o644, crl),
	}}
	st.Hash = hashOf(st)
	res, err := r.ap.Apply(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRestartWindow: real files and a restart command that appends to a
// file. A certificate change outside the window is written at once but
// restarts nothing until the clock enters the window, then restarts once
// for every change meanwhile, also after the agent itself restarted; a
// CRL change never restarts; a running certificate that would expire
// before the window opens restarts at once.
func TestRestartWindow(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	r := newWindowRig(t, day)
	dir, stateDir, marks, clk := r.dir, r.stateDir, r.marks, r.clk
	apply := func(t *testing.T, cert, caPEM, crl string) Applied { t.Helper(); return r.apply(t, cert, caPEM, crl) }
	far := day.AddDate(1, 0, 0)
	certA, certB := r.certFor(far), r.certFor(far.AddDate(0, 0, 1))

	t.Run("ok/first install restarts at once", func(t *testing.T) {
		if res := apply(t, certA, "CA-1", "CRL-1"); !res.Restarted || restarts(t, marks) != 1 {
			t.Fatalf("got %+v and %d restarts, want 1", res, restarts(t, marks))
		}
	})
	t.Run("ok/certificate change outside the window is held", func(t *testing.T) {
		res := apply(t, certB, "CA-1", "CRL-1")
		if !res.Deferred || res.Restarted || restarts(t, marks) != 1 {
			t.Fatalf("got %+v and %d restarts, want the restart held", res, restarts(t, marks))
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "server.crt")); string(b) != certB {
			t.Fatal("the new server.crt was not written at once")
		}
		if got := r.ap.Gate.Since(); !got.Equal(clk.now()) {
			t.Fatalf("pending since: got %v, want %v", got, clk.now())
		}
	})
	t.Run("ok/more changes, one pending restart", func(t *testing.T) {
		since := r.ap.Gate.Since()
		clk.set(day.Add(11 * time.Hour))
		if res := apply(t, certB, "CA-1\nCA-2", "CRL-1"); !res.Deferred || restarts(t, marks) != 1 {
			t.Fatalf("ca.crt change: got %+v and %d restarts, want held", res, restarts(t, marks))
		}
		if res := apply(t, certB, "CA-1\nCA-2", "CRL-2"); res.Deferred || res.Restarted || restarts(t, marks) != 1 {
			t.Fatalf("CRL change: got %+v and %d restarts, want no restart", res, restarts(t, marks))
		}
		if !r.ap.Gate.Since().Equal(since) {
			t.Fatalf("pending since moved: got %v, want %v", r.ap.Gate.Since(), since)
		}
		if ran, err := r.ap.RestartIfDue(ctx); ran || err != nil || restarts(t, marks) != 1 {
			t.Fatalf("outside the window: got %v %v, want nothing run", ran, err)
		}
	})
	t.Run("ok/pending survives an agent restart and runs once in the window", func(t *testing.T) {
		r.restartAgent()
		if r.ap.Gate.Since().IsZero() {
			t.Fatal("the pending restart was lost")
		}
		clk.set(day.Add(26*time.Hour + 30*time.Minute)) // 02:30 the next day
		if ran, err := r.ap.RestartIfDue(ctx); !ran || err != nil || restarts(t, marks) != 2 {
			t.Fatalf("in the window: got %v %v and %d restarts, want one restart", ran, err, restarts(t, marks))
		}
		if ran, _ := r.ap.RestartIfDue(ctx); ran || restarts(t, marks) != 2 || !r.ap.Gate.Since().IsZero() {
			t.Fatalf("again: got %v and %d restarts, want nothing more", ran, restarts(t, marks))
		}
		if _, err := os.Stat(filepath.Join(stateDir, PendingFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: got %v, want removed", PendingFile, err)
		}
	})
	t.Run("ok/running certificate expiring before the window restarts at once", func(t *testing.T) {
		clk.set(day.Add(34 * time.Hour)) // 10:00, the window opens in 16 hours
		soon := r.certFor(day.Add(40 * time.Hour))
		if res := apply(t, soon, "CA-1\nCA-2", "CRL-2"); !res.Deferred {
			t.Fatalf("got %+v, want held (the running certificate ends in a year)", res)
		}
		clk.set(day.Add(35 * time.Hour))
		os.Remove(filepath.Join(stateDir, PendingFile)) // as if OpenVPN had been restarted by hand
		r.restartAgent()
		// OpenVPN now runs with "soon" (ends at day+40h, before 02:00 day+50h).
		if res := apply(t, certA, "CA-1\nCA-2", "CRL-2"); res.Deferred || !res.Restarted || restarts(t, marks) != 3 {
			t.Fatalf("got %+v and %d restarts, want a restart at once", res, restarts(t, marks))
		}
	})
}
