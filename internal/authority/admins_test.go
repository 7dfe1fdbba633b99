package authority

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

const adminPass = "twelve chars at least"

// TestLogoutAudited: `admin logout NAME` and a web sign-out each leave an
// audit record naming the admin; bad or unknown names change nothing.
func TestLogoutAudited(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := WithActor(context.Background(), Actor{Name: "cli:root", Source: "host h1"})
	if err := f.a.SetAdmin(ctx, "ann", adminPass); err != nil {
		t.Fatal(err)
	}
	tok1, err := f.a.Login(ctx, "ann", adminPass, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Login(ctx, "ann", adminPass, "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	// A web sign-out ends one session.
	if err := f.a.Logout(ctx, tok1, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Session(ctx, tok1); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after sign-out: got %v, want ErrNoSession", err)
	}
	if err := f.a.Logout(ctx, tok1, "192.0.2.1"); err != nil {
		t.Fatalf("second sign-out: got %v, want nil", err)
	}
	// admin logout ends the rest.
	n, err := f.a.EndSessions(ctx, "ann")
	if err != nil || n != 1 {
		t.Fatalf("EndSessions: got %d, %v; want 1, nil", n, err)
	}
	evs, err := f.a.Audit(ctx, store.AuditFilter{Action: "admin.logout", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("admin.logout records: got %d, want 2", len(evs))
	}
	byActor := map[string]store.AuditEvent{}
	for _, e := range evs {
		byActor[e.Actor] = e
	}
	if e := byActor["cli:root"]; e.Target != "ann" || e.Detail != `{"sessions":1}` {
		t.Errorf("admin logout record: got %+v, want target ann, detail {\"sessions\":1}", e)
	}
	if e := byActor["admin:ann"]; e.Target != "ann" || e.Source != "192.0.2.1" {
		t.Errorf("sign-out record: got %+v, want target ann from 192.0.2.1", e)
	}
	for _, tc := range []struct {
		name, admin string
		want        error
	}{
		{"fail/unknown admin", "bob", ErrUserNotFound},
		{"fail/bad name", "../ann", account.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.a.EndSessions(ctx, tc.admin); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if evs, _ := f.a.Audit(ctx, store.AuditFilter{Action: "admin.logout", Limit: 10}); len(evs) != 2 {
		t.Fatalf("admin.logout records after refusals: got %d, want 2", len(evs))
	}
}

// TestPasswordSlots: at most MaxPasswordChecks argon2id computations run at
// once; when all slots stay taken, a sign-in whose context ends gets
// ErrBusy, checks nothing and audits nothing.
func TestPasswordSlots(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	if err := f.a.SetAdmin(ctx, "ann", adminPass); err != nil {
		t.Fatal(err)
	}
	var checks, maxInFlight atomic.Int32
	entered, hold := make(chan struct{}, 100), make(chan struct{})
	a := New(f.db, Options{DataDir: f.dir, PasswordCheck: func(n int) {
		checks.Add(1)
		for m := maxInFlight.Load(); int32(n) > m && !maxInFlight.CompareAndSwap(m, int32(n)); m = maxInFlight.Load() {
		}
		entered <- struct{}{}
		<-hold
	}})
	const n = 4
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "ann"
			if i%2 == 1 {
				name = "nobody" // the dummy hash is checked under the same bound
			}
			a.Login(ctx, name, "wrong password", "192.0.2.9")
		}()
	}
	for range MaxPasswordChecks {
		<-entered
	}
	// Every slot is held now: a sign-in gives up when its context ends (the
	// deadline only has to outlast loading the admin's row).
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := a.Login(short, "ann", adminPass, "192.0.2.9"); !errors.Is(err, ErrBusy) {
		t.Errorf("sign-in with every slot taken: got %v, want ErrBusy", err)
	}
	close(hold)
	wg.Wait()
	if got := checks.Load(); got != n {
		t.Errorf("checks: got %d, want %d", got, n)
	}
	if got := maxInFlight.Load(); got > MaxPasswordChecks {
		t.Errorf("checks at once: got %d, want at most %d", got, MaxPasswordChecks)
	}
	if evs, _ := a.Audit(ctx, store.AuditFilter{Action: "admin.login_failed", Limit: 100}); len(evs) != n {
		t.Errorf("failed sign-ins audited: got %d, want %d (the busy one is not)", len(evs), n)
	}
}

func TestLinkTTLLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hours float64
		want  time.Duration
		ok    bool
	}{
		{"ok/default", 0, 0, true},
		{"ok/negative is the default", -3, 0, true},
		{"ok/one hour", 1, time.Hour, true},
		{"ok/the cap", 2160, MaxLinkTTL, true},
		{"fail/just over", 2160.01, 0, false},
		{"fail/2000000 hours", 2e6, 0, false},
		{"fail/would overflow", 1e300, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LinkTTLHours(tc.hours)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("LinkTTLHours(%g): got %v, %v; want %v, ok=%v", tc.hours, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping account.ErrInvalid", err)
			}
		})
	}
	if err := ValidLinkTTL(MaxLinkTTL + time.Second); !errors.Is(err, account.ErrInvalid) {
		t.Errorf("ValidLinkTTL(cap+1s): got %v, want account.ErrInvalid", err)
	}
	if err := ValidLinkTTL(MaxLinkTTL); err != nil {
		t.Errorf("ValidLinkTTL(cap): got %v, want nil", err)
	}
}
