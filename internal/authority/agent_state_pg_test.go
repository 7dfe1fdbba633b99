package authority

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestWaitChangeAcrossInstances: two instances on one PostgreSQL
// database, each with its own connections; a revocation committed on A
// wakes a WaitChange held on B. B polls only every hour here, so what
// wakes it is A's NOTIFY, delivered at A's commit.
func TestWaitChangeAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	opts := Options{DataDir: filepath.Join(t.TempDir(), "a")}
	a := New(dbA, opts)
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn1.example.com:1194"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddUsers(ctx, []UserRequest{{Name: "alice"}}, AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	b := New(dbB, Options{DataDir: filepath.Join(t.TempDir(), "b")})
	b.hub.poll = time.Hour
	watch, stop := context.WithCancel(ctx)
	defer stop()
	go b.WatchChanges(watch)
	since, err := dbB.Q().Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// B knows the version before A revokes: its watcher read it on start.
	if v, err := b.WaitChange(ctx, since-1); err != nil || v != since {
		t.Fatalf("B before the revoke: got %d %v, want %d", v, err, since)
	}
	// And B listens: what wakes it below can only be the notification.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var n int
		err := dbA.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN `+store.ChangesChannel+`'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions listening on %s: got %d, want B's one", store.ChangesChannel, n)
		}
		time.Sleep(20 * time.Millisecond)
	}

	got := make(chan int64, 1)
	go func() {
		v, _ := b.WaitChange(ctx, since)
		got <- v
	}()
	res, err := a.Revoke(ctx, "alice", "key-compromise")
	if err != nil {
		t.Fatal(err)
	}
	want, err := dbA.Q().Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		// A revoke records two changes (the revocation, the CRL); B may
		// wake on the first one's notification: any version of it counts.
		if v <= since || v > want {
			t.Fatalf("B woke with version %d, want one after %d, at most %d", v, since, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a revocation on A did not wake WaitChange on B")
	}
	// The state's queries on PostgreSQL.
	st, err := a.AgentState(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(usersRevokedIn(t, dbA, st.Revoked), []string{res.Serial}) || !slices.Equal(st.Refused, []string{"alice"}) || st.Version < want {
		t.Fatalf("state on PostgreSQL: got version %d revoked %v refused %v, want at least %d, [%s], [alice]", st.Version, st.Revoked, st.Refused, want, res.Serial)
	}
}
