package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// ChangesChannel is the PostgreSQL channel RecordChange notifies with the
// version it recorded. PostgreSQL delivers a NOTIFY made in a transaction
// at its commit, to every session that LISTENs: so a change committed by
// one vpnkeys instance reaches every other instance on the database.
const ChangesChannel = "vpnkeys_changes"

// ErrNoNotify is ListenChanges' answer on SQLite, which has no
// notifications: there, other processes' changes are found by polling.
var ErrNoNotify = errors.New("database has no change notifications")

// Listen backoff: the first retry after listenBackoffMin, doubling up to
// listenBackoffMax while the database stays unreachable.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// ListenChanges calls fn with the version of each change committed on the
// database by any process, until ctx ends, and with 0 each time it starts
// (or starts again) to listen: notifications sent while it was not
// listening are lost, so a 0 means "read Version now". It holds one
// connection of its own, reconnects with a growing delay after a failure
// (onError is told of each), and returns ctx's error. On SQLite it
// returns ErrNoNotify at once.
func (db *DB) ListenChanges(ctx context.Context, fn func(version int64), onError func(error)) error {
	if db.dialect != Postgres {
		return ErrNoNotify
	}
	delay := listenBackoffMin
	for {
		listening, err := db.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listening {
			delay = listenBackoffMin
		}
		if onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, listenBackoffMax)
	}
}

// listenOnce LISTENs on one connection until it fails or ctx ends, and
// tells whether it got as far as listening. The connection is always
// discarded afterwards, never handed back to the pool still listening.
func (db *DB) listenOnce(ctx context.Context, fn func(int64)) (listening bool, err error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("connecting to listen for changes: %w", err)
	}
	defer conn.Close()
	rawErr := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			err = fmt.Errorf("listening for changes: unexpected driver connection %T", dc)
			return driver.ErrBadConn
		}
		pc := sc.Conn()
		if _, err = pc.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
			err = fmt.Errorf("listening for changes: %w", err)
			return driver.ErrBadConn
		}
		listening = true
		fn(0)
		for {
			n, werr := pc.WaitForNotification(ctx)
			if werr != nil {
				err = fmt.Errorf("waiting for change notifications: %w", werr)
				return driver.ErrBadConn
			}
			if v, perr := strconv.ParseInt(n.Payload, 10, 64); perr == nil && v > 0 {
				fn(v)
			}
		}
	})
	if err == nil {
		err = rawErr
	}
	return listening, err
}
