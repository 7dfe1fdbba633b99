package authority

import (
	"context"
	"errors"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// maxAttempts bounds the retries of work that lost a race.
const maxAttempts = 5

// retry runs attempt, and runs it again from the start while it fails
// because another process won a race (store.ErrConflict: a unique
// violation, a deadlock, a serialization failure, a row that changed
// under it), at most maxAttempts times. It is the one retry loop of the
// package: a write transaction goes through withRetry; work that must plan
// again outside its transaction (sign afresh, read the current state
// again) passes its whole plan-and-commit to retry.
func (a *Authority) retry(ctx context.Context, what string, attempt func() error) error {
	var err error
	for n := 1; n <= maxAttempts; n++ {
		if err = attempt(); !errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
			return err
		}
		a.log.InfoContext(ctx, "lost a race, retrying", "op", what, "attempt", n)
	}
	return err
}

// withRetry runs fn in a transaction, through retry: every write
// transaction of the package goes through it (doc.go), so fn must be safe
// to run again from the start.
func (a *Authority) withRetry(ctx context.Context, fn func(q *store.Queries) error) error {
	return a.retry(ctx, "transaction", func() error { return a.inTx(ctx, fn) })
}

// txOnce runs fn in a transaction once, without retrying: only for the
// transactions of an attempt that retry runs as a whole, where running the
// transaction alone again would repeat a plan that can no longer succeed.
func (a *Authority) txOnce(ctx context.Context, fn func(q *store.Queries) error) error {
	return a.inTx(ctx, fn)
}

// inTx runs fn in one transaction and, once it committed, wakes this
// process's WaitChange with the change version it recorded, if any
// (recordChange marks the transaction; hub.go).
func (a *Authority) inTx(ctx context.Context, fn func(q *store.Queries) error) error {
	var tx *store.Queries
	err := a.db.WithTx(ctx, func(q *store.Queries) error {
		tx = q
		return fn(q)
	})
	a.hub.settle(tx, err == nil)
	return err
}
