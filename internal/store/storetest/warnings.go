package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testWarnings: a warning is claimed by exactly one of many racing
// claimants; a fresh claim blocks others, a stale one is taken over by one;
// only the owner finishes it, recording the passed thresholds with it; a
// released claim can be claimed again; a link keeps its purpose.
func testWarnings(t *testing.T, db *store.DB) {
	q := db.Q()
	if err := q.UpsertUser(ctx, store.User{Name: "alice", Email: "a@example.com", OS: "linux", Lang: "en", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertCert(ctx, cert("AA01", "alice")); err != nil {
		t.Fatal(err)
	}
	now := t0.Unix()
	w := store.Warning{Serial: "AA01", Days: 7, User: "alice", ClaimedAt: now}
	const racers = 8
	owned := make([]bool, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.WithTx(ctx, func(q *store.Queries) error {
				var err error
				owned[i], err = q.ClaimWarning(ctx, w, fmt.Sprintf("c%d", i), now-600)
				return err
			})
			if err != nil {
				t.Errorf("claimant %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	winner := -1
	for i, o := range owned {
		if o {
			if winner >= 0 {
				t.Fatalf("claimants %d and %d both own the warning", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no claimant owns the warning")
	}
	// Ten minutes on, the claim is stale: one takes it over.
	later := store.Warning{Serial: "AA01", Days: 7, User: "alice", ClaimedAt: now + 601}
	if ok, err := q.ClaimWarning(ctx, later, "late", now+1); err != nil || !ok {
		t.Fatalf("taking over a stale claim: got %v %v, want owned", ok, err)
	}
	if ok, _ := q.ClaimWarning(ctx, later, "later", now+1); ok {
		t.Fatal("a second takeover of the same claim succeeded")
	}
	if ok, err := q.FinishWarning(ctx, "AA01", 7, fmt.Sprintf("c%d", winner), now+700, []int{30}); err != nil || ok {
		t.Fatalf("finishing by the claimant it was taken from: got %v %v, want false", ok, err)
	}
	if ok, err := q.FinishWarning(ctx, "AA01", 7, "late", now+700, []int{30}); err != nil || !ok {
		t.Fatalf("finishing by the owner: got %v %v", ok, err)
	}
	if ok, _ := q.ClaimWarning(ctx, store.Warning{Serial: "AA01", Days: 7, ClaimedAt: now + 9999}, "x", now+9000); ok {
		t.Fatal("a sent warning was claimed again")
	}
	ws, err := q.Warnings(ctx)
	if err != nil || len(ws) != 2 || ws[0].Passed == ws[1].Passed {
		t.Fatalf("Warnings: got %+v %v, want the 7-day one sent and 30 passed", ws, err)
	}
	one := store.Warning{Serial: "AA01", Days: 1, User: "alice", ClaimedAt: now}
	if ok, _ := q.ClaimWarning(ctx, one, "a", now-600); !ok {
		t.Fatal("claiming the 1-day warning failed")
	}
	if err := q.ReleaseWarning(ctx, "AA01", 1, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := q.ClaimWarning(ctx, one, "b", now-600); !ok {
		t.Fatal("a released warning could not be claimed again")
	}
	testLinkPurpose(t, q, now)
}

// testLinkPurpose: a renewal link reads back as one; a link made without
// a purpose is a download link.
func testLinkPurpose(t *testing.T, q *store.Queries, now int64) {
	if err := q.InsertLink(ctx, store.Link{TokenHash: "h1", User: "alice", Serial: "AA01", CreatedAt: now, ExpiresAt: now + 60, Purpose: store.LinkRenew}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertLink(ctx, store.Link{TokenHash: "h2", User: "alice", Serial: "AA01", CreatedAt: now, ExpiresAt: now + 60}); err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]string{"h1": store.LinkRenew, "h2": store.LinkDownload} {
		if l, err := q.GetLink(ctx, hash); err != nil || l.Purpose != want {
			t.Errorf("link %s: got purpose %q %v, want %q", hash, l.Purpose, err, want)
		}
	}
}
