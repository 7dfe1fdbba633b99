package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

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
	e.srv.Config.Handler = New(Options{Authority: a, Logger: slogTo(e.logs)}).Handler()
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
