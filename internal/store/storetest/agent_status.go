package storetest

import (
	"errors"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testAgentStatus: a report replaces the server's previous one field by
// field (the boolean too, on both backends); session ends come back after
// the given creation time, oldest first, and an ID is used once.
func testAgentStatus(t *testing.T, db *store.DB) {
	q := db.Q()
	if got, err := q.AgentStatuses(ctx); err != nil || len(got) != 0 {
		t.Fatalf("AgentStatuses on empty: got %v %v, want none", got, err)
	}
	dc2 := store.AgentStatus{Server: "dc2", Serial: "0B", LastSeen: 50, Sessions: "[]"}
	first := store.AgentStatus{Server: "dc1", Serial: "0A", LastSeen: 100, Version: 3, AppliedAt: 90, CRLNumber: 7,
		CRLNextUpdate: 1000, Hashes: `{"crl.pem":"ab"}`, Error: "disk full", Management: true, Kills: 2,
		AgentVersion: "1.0", Sessions: `[{"user":"alice"}]`}
	for _, s := range []store.AgentStatus{dc2, first} {
		if err := q.UpsertAgentStatus(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	second := store.AgentStatus{Server: "dc1", Serial: "0C", LastSeen: 200, Version: 5, AppliedAt: 190, CRLNumber: 8,
		CRLNextUpdate: 2000, Hashes: `{}`, Management: false, Kills: 3, AgentVersion: "1.1", Sessions: `[]`}
	if err := q.UpsertAgentStatus(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err := q.AgentStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != second || got[1] != dc2 {
		t.Fatalf("AgentStatuses: got %+v, want [%+v %+v]", got, second, dc2)
	}
	if err := q.UpsertAgentStatus(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.AgentStatuses(ctx); len(got) != 2 || !got[0].Management || got[0] != first {
		t.Fatalf("AgentStatuses after a third report: got %+v, want %+v first", got, first)
	}

	ends := []store.SessionEnd{{ID: 4, User: "alice", Before: 10, Reason: "lost laptop", CreatedAt: 10},
		{ID: 9, User: "bob", Before: 20, CreatedAt: 20}, {ID: 12, User: "alice", Before: 30, CreatedAt: 30}}
	for _, e := range ends {
		if err := q.InsertSessionEnd(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.InsertSessionEnd(ctx, store.SessionEnd{ID: 9, User: "carol", Before: 40, CreatedAt: 40}); err == nil {
		t.Fatal("a second session end with ID 9: got nil, want an error")
	}
	for _, tc := range []struct {
		after int64
		want  []store.SessionEnd
	}{{0, ends}, {10, ends[1:]}, {29, ends[2:]}, {30, nil}} {
		got, err := q.SessionEnds(ctx, tc.after)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("SessionEnds(%d): got %+v, want %+v", tc.after, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("SessionEnds(%d)[%d]: got %+v, want %+v", tc.after, i, got[i], tc.want[i])
			}
		}
	}
	// A failed transaction leaves no session end.
	boom := errors.New("boom")
	err = db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.InsertSessionEnd(ctx, store.SessionEnd{ID: 13, User: "dave", Before: 50, CreatedAt: 50}); err != nil {
			return err
		}
		return boom
	})
	if got, _ := q.SessionEnds(ctx, 30); !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("after a rollback: got %v %+v, want boom and none", err, got)
	}
}
