package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testAgentJoins: a join token is stored by hash, spent exactly once even
// when joins race (the loser sees it spent, it does not fail on a lost
// race), and a server's unused tokens go with it; a certificate is found
// by serial in any state.
func testAgentJoins(t *testing.T, db *store.DB) {
	q := db.Q()
	j := store.AgentJoin{Hash: "h1", Server: "dc1", CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600}
	if err := q.InsertAgentJoin(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertAgentJoin(ctx, j); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second InsertAgentJoin: got %v, want ErrExists", err)
	}
	got, err := q.AgentJoinByHash(ctx, "h1")
	if err != nil || got != j {
		t.Fatalf("AgentJoinByHash: got %+v %v, want %+v", got, err, j)
	}
	if _, err := q.AgentJoinByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AgentJoinByHash unknown: got %v, want ErrNotFound", err)
	}
	spendRace(t, db, "h1")
	if got, _ := q.AgentJoinByHash(ctx, "h1"); got.UsedAt != t0.Unix()+1 || got.UsedSerial != "0A" {
		t.Fatalf("spent token: got %+v, want used at %d by 0A", got, t0.Unix()+1)
	}
	if err := q.SpendAgentJoin(ctx, "h1", t0.Unix()+2, "0B"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("spending twice: got %v, want ErrConflict", err)
	}
	for _, h := range []string{"h2", "h3"} {
		if err := q.InsertAgentJoin(ctx, store.AgentJoin{Hash: h, Server: "dc1", CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.InsertAgentJoin(ctx, store.AgentJoin{Hash: "other", Server: "dc2", CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600}); err != nil {
		t.Fatal(err)
	}
	if n, err := q.DeleteAgentJoins(ctx, "dc1"); err != nil || n != 2 {
		t.Fatalf("DeleteAgentJoins: got %d %v, want 2 (the unused ones of dc1)", n, err)
	}
	for h, want := range map[string]error{"h1": nil, "h2": store.ErrNotFound, "other": nil} {
		if _, err := q.AgentJoinByHash(ctx, h); !errors.Is(err, want) {
			t.Errorf("after DeleteAgentJoins, %s: got %v, want %v", h, err, want)
		}
	}
	testCertBySerial(t, db)
}

// errSpent is what a racing join sees when another spent the token.
var errSpent = errors.New("spent")

// spendRace races joins on one token, each reading it then spending it
// in one transaction: exactly one wins, and every other one reads it
// spent (the read holds the row until the winner commits), rather than
// losing at the update. The winner is a transaction that holds the row
// while the others start.
func spendRace(t *testing.T, db *store.DB, hash string) {
	const workers = 6
	var wg sync.WaitGroup
	errs := make([]error, workers)
	started := make(chan struct{}, workers)
	var finished atomic.Int32
	spend := func(q *store.Queries) error {
		j, err := q.AgentJoinByHash(ctx, hash)
		if err != nil {
			return err
		}
		if j.UsedAt != 0 {
			return errSpent
		}
		return q.SpendAgentJoin(ctx, hash, t0.Unix()+1, "0A")
	}
	err := db.WithTx(ctx, func(q *store.Queries) error {
		if _, err := q.AgentJoinByHash(ctx, hash); err != nil {
			return err
		}
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started <- struct{}{}
				errs[i] = db.WithTx(ctx, spend)
				finished.Add(1)
			}()
		}
		for range workers {
			<-started
		}
		waitBlocked(t, db, workers, &finished)
		return spend(q)
	})
	if err != nil {
		t.Fatalf("the first join: %v", err)
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, errSpent) {
			t.Errorf("a racing join: got %v, want it to read the token spent", err)
		}
	}
}

// waitBlocked waits, on PostgreSQL, until each of the n racing joins
// waits for a lock or has finished, so they have all reached the token
// before the first commits. On SQLite they wait at BEGIN IMMEDIATE.
func waitBlocked(t *testing.T, db *store.DB, n int, finished *atomic.Int32) {
	if db.Dialect() != store.Postgres {
		return
	}
	for {
		var waiting int
		err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Error(err)
			return
		}
		if waiting+int(finished.Load()) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testCertBySerial(t *testing.T, db *store.DB) {
	q := db.Q()
	c := cert("0C", "agent:dc1")
	c.Kind, c.KeySealed = store.KindServer, nil
	if err := q.InsertCert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := q.EndCert(ctx, "0C", store.StateRevoked, t0.Unix(), "superseded"); err != nil {
		t.Fatal(err)
	}
	got, err := q.CertBySerial(ctx, "0C")
	if err != nil || got.Kind != store.KindServer || got.Subject != "agent:dc1" || got.State != store.StateRevoked || got.Reason != "superseded" {
		t.Fatalf("CertBySerial: got %+v %v, want the revoked agent:dc1", got, err)
	}
	if _, err := q.CertBySerial(ctx, "0D"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CertBySerial unknown: got %v, want ErrNotFound", err)
	}
}
