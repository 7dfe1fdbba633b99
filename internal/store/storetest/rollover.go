package storetest

import (
	"errors"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testRollover: a CA rollover starts once, finishes once, and swaps the
// certificates; an agent's pending restart is kept beside its report.
func testRollover(t *testing.T, db *store.DB) {
	q := db.Q()
	if err := q.PutCA(ctx, store.CA{Algo: "p256", CertPEM: "old", KeyPEM: "k", TLSCrypt: []byte{1}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := q.FinishRollover(ctx, "new"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("finish before start: got %v, want ErrConflict", err)
	}
	if err := q.StartRollover(ctx, "new", 7); err != nil {
		t.Fatal(err)
	}
	if err := q.StartRollover(ctx, "newer", 8); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second start: got %v, want ErrConflict", err)
	}
	if r, err := q.GetRollover(ctx); err != nil || r != (store.Rollover{Current: "old", Next: "new", StartedAt: 7}) {
		t.Fatalf("rollover: got %+v %v, want old/new/7", r, err)
	}
	if err := q.FinishRollover(ctx, "other"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("finish of another certificate: got %v, want ErrConflict", err)
	}
	if err := q.FinishRollover(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if r, err := q.GetRollover(ctx); err != nil || r != (store.Rollover{Current: "new"}) {
		t.Fatalf("after finish: got %+v %v, want new only", r, err)
	}
	if err := q.UpsertAgentStatus(ctx, store.AgentStatus{Server: "dc1", Serial: "01", LastSeen: 5, Hashes: "{}", Sessions: "[]"}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetRestartPending(ctx, "dc1", 42); err != nil {
		t.Fatal(err)
	}
	if m, err := q.RestartsPending(ctx); err != nil || m["dc1"] != 42 || len(m) != 1 {
		t.Fatalf("pending: got %v %v, want dc1:42", m, err)
	}
}
