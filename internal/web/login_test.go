package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestLoginParallelGuesses: 50 wrong passwords for one admin at once. The
// limiter's token is taken before the password is checked, so at most
// loginBurst checks run (each failed check is audited), and the others are
// refused with 429 without any check.
func TestLoginParallelGuesses(t *testing.T) {
	e := uiEnv(t)
	var checks, maxInFlight atomic.Int32
	a := authority.New(e.db, authority.Options{DataDir: t.TempDir(), PasswordCheck: func(inFlight int) {
		checks.Add(1)
		for m := maxInFlight.Load(); int32(inFlight) > m && !maxInFlight.CompareAndSwap(m, int32(inFlight)); m = maxInFlight.Load() {
		}
	}})
	s := New(Options{Authority: a, Logger: slogTo(e.logs)})
	// argon2id under -race on a loaded 2-core machine can keep both slots
	// busy for seconds: a waiting sign-in must not time out into 503 here,
	// where the point is the limiter and the bound.
	s.loginWait = 5 * time.Minute
	e.srv.Config.Handler = s.Handler()
	const n = 50
	codes := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := http.PostForm(e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {"wrong password!"}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	evs, err := e.a.Audit(context.Background(), store.AuditFilter{Action: "admin.login_failed", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) > loginBurst || len(evs) == 0 || int(checks.Load()) != len(evs) {
		t.Errorf("password checks: got %d (%d audited), want 1 to %d", checks.Load(), len(evs), loginBurst)
	}
	if m := maxInFlight.Load(); m > authority.MaxPasswordChecks {
		t.Errorf("password checks at once: got %d, want at most %d", m, authority.MaxPasswordChecks)
	}
	if count[http.StatusUnauthorized] != len(evs) || count[http.StatusTooManyRequests] != n-len(evs) {
		t.Errorf("answers: got %v, want %d x 401 and the rest 429", count, len(evs))
	}
	if strings.Contains(e.logs.String(), "wrong password!") {
		t.Error("a tried password reached the log")
	}
}

// TestLoginBusy: while every password-check slot is taken, a sign-in waits
// loginWait, then gets 503 with Retry-After; it checks nothing, audits
// nothing, and its limiter tokens are given back.
func TestLoginBusy(t *testing.T) {
	e := uiEnv(t)
	entered, hold := make(chan struct{}, 10), make(chan struct{})
	a := authority.New(e.db, authority.Options{DataDir: t.TempDir(), PasswordCheck: func(int) {
		entered <- struct{}{}
		<-hold
	}})
	s := New(Options{Authority: a, Logger: slogTo(e.logs)})
	// Long enough to load the admin's row under -race on a busy machine;
	// the slots stay taken throughout.
	s.loginWait = 500 * time.Millisecond
	e.srv.Config.Handler = s.Handler()
	var wg sync.WaitGroup
	for range authority.MaxPasswordChecks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Login(context.Background(), "ann", "wrong password!", "192.0.2.1")
		}()
	}
	for range authority.MaxPasswordChecks {
		<-entered
	}
	resp, err := http.PostForm(e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {adminPass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("sign-in with every slot taken: got %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.limiter.mu.Lock()
	left := s.limiter.m["name:ann"].tokens
	s.limiter.mu.Unlock()
	if left != loginBurst {
		t.Errorf("limiter tokens left for ann: got %.2f, want %d (the busy attempt's given back)", left, loginBurst)
	}
	close(hold)
	wg.Wait()
	evs, _ := a.Audit(context.Background(), store.AuditFilter{Action: "admin.login_failed", Limit: 100})
	if len(evs) != authority.MaxPasswordChecks {
		t.Errorf("failed sign-ins audited: got %d, want %d", len(evs), authority.MaxPasswordChecks)
	}
}
