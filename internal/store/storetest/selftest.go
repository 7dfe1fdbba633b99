package storetest

import (
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testSelfTest: a check's result replaces the previous one; the alert
// mark flips only on a transition, once (the boolean on both backends).
func testSelfTest(t *testing.T, db *store.DB) {
	q := db.Q()
	if err := q.InsertServer(ctx, store.Server{Name: "dc1", Host: "dc1", Port: 1194, Proto: "udp", Subnet: "10.8.0.0/24", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	save := func(ok bool, at int64) {
		t.Helper()
		if err := q.SaveSelfTest(ctx, store.SelfTestResult{Server: "dc1", Name: "tunnel", OK: ok, Detail: "d", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(failing, want bool) {
		t.Helper()
		if got, err := q.ClaimSelfTestAlert(ctx, "dc1", "tunnel", failing); err != nil || got != want {
			t.Fatalf("claim failing=%v: got %v %v, want %v", failing, got, err, want)
		}
	}
	save(true, 1)
	claim(false, false) // passing and never alerted: nothing to mail
	save(false, 2)
	claim(true, true)
	claim(true, false)                                                          // the other instance: already claimed
	if err := q.UnclaimSelfTestAlert(ctx, "dc1", "tunnel", false); err != nil { // the mail failed
		t.Fatal(err)
	}
	claim(true, true) // the next report tries again
	save(false, 3)
	claim(true, false) // still failing: no second mail
	save(true, 4)
	claim(true, false)
	claim(false, true) // recovered
	claim(false, false)
	got, err := q.SelfTestResults(ctx)
	if err != nil || len(got) != 1 || got[0] != (store.SelfTestResult{Server: "dc1", Name: "tunnel", OK: true, Detail: "d", At: 4}) {
		t.Fatalf("SelfTestResults: got %+v %v, want dc1's tunnel ok at 4", got, err)
	}
}
