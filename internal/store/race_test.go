package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestLostRace provokes real constraint violations on both backends and
// checks that WithTx reports exactly the races as ErrConflict, by driver
// code: an error that merely says "UNIQUE constraint failed" is not one.
func TestLostRace(t *testing.T) {
	ctx := context.Background()
	const certSQL = `INSERT INTO certificates (serial, kind, subject, cert_pem, not_before, not_after, state, created_at)
		VALUES ($1, 'client', 'alice', 'pem', 0, 1, 'active', 0)`
	const serverSQL = `INSERT INTO servers (name, host, port, proto, subnet, created_at) VALUES ('dc1', $1, 1194, 'udp', '', 0)`
	tests := []struct {
		name string
		run  func(q *Queries) error
		race bool
	}{
		{"ok/primary key", func(q *Queries) error {
			if _, err := q.q.ExecContext(ctx, serverSQL, "h"); err != nil {
				return err
			}
			_, err := q.q.ExecContext(ctx, serverSQL, "h")
			return err
		}, true},
		{"ok/unique index", func(q *Queries) error {
			if _, err := q.q.ExecContext(ctx, certSQL, "01"); err != nil {
				return err
			}
			_, err := q.q.ExecContext(ctx, certSQL, "02")
			return err
		}, true},
		{"fail/not null", func(q *Queries) error {
			_, err := q.q.ExecContext(ctx, serverSQL, nil)
			return err
		}, false},
		{"fail/check", func(q *Queries) error {
			_, err := q.q.ExecContext(ctx, `INSERT INTO certificates (serial, kind, subject, cert_pem, not_before, not_after, state, created_at)
				VALUES ('03', 'client', 'bob', 'pem', 0, 1, 'lost', 0)`)
			return err
		}, false},
		{"fail/words are not a code", func(*Queries) error {
			return errors.New("UNIQUE constraint failed: servers.name (SQLSTATE 23505)")
		}, false},
	}
	for backend, dsn := range map[string]string{"sqlite": filepath.Join(t.TempDir(), "race.db"), "postgres": pgtest.Start(t)} {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		for _, tc := range tests {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				err := db.WithTx(ctx, tc.run)
				if err == nil {
					t.Fatal("got no error, want one")
				}
				if got := errors.Is(err, ErrConflict); got != tc.race {
					t.Fatalf("errors.Is(%v, ErrConflict): got %v, want %v", err, got, tc.race)
				}
				want := fault.Internal
				if tc.race {
					want = fault.Conflict
				}
				if got := fault.KindOf(err); got != want {
					t.Fatalf("kind of %v: got %v, want %v", err, got, want)
				}
			})
		}
	}
}

// TestDeadlock makes two PostgreSQL transactions wait for each other's
// row: the server aborts one with SQLSTATE 40P01, which must come back as
// ErrConflict, and the other commits.
func TestDeadlock(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"a", "b"} {
		if err := db.Q().InsertServer(ctx, Server{Name: name, Host: "h", Port: 1194, Proto: "udp"}); err != nil {
			t.Fatal(err)
		}
	}
	// lockThen locks first, tells it holds it, waits for the other side to
	// hold its row, then asks for second.
	lockThen := func(first, second string, held chan<- struct{}, other <-chan struct{}) error {
		return db.WithTx(ctx, func(q *Queries) error {
			if _, err := q.q.ExecContext(ctx, `SET LOCAL deadlock_timeout = '20ms'`); err != nil {
				return err
			}
			if _, err := q.q.ExecContext(ctx, `UPDATE servers SET host = 'x' WHERE name = $1`, first); err != nil {
				return err
			}
			close(held)
			<-other
			_, err := q.q.ExecContext(ctx, `UPDATE servers SET host = 'y' WHERE name = $1`, second)
			return err
		})
	}
	aHeld, bHeld := make(chan struct{}), make(chan struct{})
	errA := make(chan error, 1)
	go func() { errA <- lockThen("a", "b", aHeld, bHeld) }()
	errB := lockThen("b", "a", bHeld, aHeld)
	errs := []error{<-errA, errB}
	var conflicts, ok int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrConflict) && fault.KindOf(err) == fault.Conflict:
			conflicts++
		default:
			t.Errorf("got %v, want nil or ErrConflict", err)
		}
	}
	if conflicts != 1 || ok != 1 {
		t.Fatalf("got %d conflicts and %d commits (%v), want 1 and 1", conflicts, ok, errs)
	}
}
