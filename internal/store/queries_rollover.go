package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Rollover is the CA's rollover state (columns of the ca row): the
// renewed certificate waiting to become the CA certificate, and when the
// rollover started (unix seconds). Next is "" when none is under way.
type Rollover struct {
	Current   string // the CA certificate (cert_pem)
	Next      string
	StartedAt int64
}

// GetRollover reads the CA certificate and its rollover state
// (ErrNotFound before init).
func (q *Queries) GetRollover(ctx context.Context) (Rollover, error) {
	var r Rollover
	err := q.q.QueryRowContext(ctx, `SELECT cert_pem, next_cert_pem, rollover_started_at FROM ca WHERE id = 1`).
		Scan(&r.Current, &r.Next, &r.StartedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Rollover{}, fmt.Errorf("CA: %w", ErrNotFound)
	}
	if err != nil {
		return Rollover{}, fmt.Errorf("loading the CA's rollover: %w", err)
	}
	return r, nil
}

// StartRollover stores next as the CA's next certificate; ErrConflict
// when a rollover is under way already (the row is left alone).
func (q *Queries) StartRollover(ctx context.Context, next string, at int64) error {
	res, err := q.q.ExecContext(ctx, `UPDATE ca SET next_cert_pem = $1, rollover_started_at = $2
		WHERE id = 1 AND next_cert_pem = ''`, next, at)
	if err != nil {
		return fmt.Errorf("starting the CA rollover: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("a CA rollover is under way: %w", ErrConflict)
	}
	return nil
}

// FinishRollover makes the next certificate the CA certificate, if it is
// still want (ErrConflict otherwise: none under way, or another one).
func (q *Queries) FinishRollover(ctx context.Context, want string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE ca SET cert_pem = next_cert_pem, next_cert_pem = '', rollover_started_at = 0
		WHERE id = 1 AND next_cert_pem <> '' AND next_cert_pem = $1`, want)
	if err != nil {
		return fmt.Errorf("finishing the CA rollover: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no such CA rollover under way: %w", ErrConflict)
	}
	return nil
}

// SetRestartPending stores since when server's agent holds back an
// OpenVPN restart (unix seconds, 0: none), beside its report.
func (q *Queries) SetRestartPending(ctx context.Context, server string, since int64) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE agent_status SET restart_pending = $1 WHERE server = $2`, since, server); err != nil {
		return fmt.Errorf("storing the pending restart of %s: %w", server, err)
	}
	return nil
}

// RestartsPending maps each server whose agent holds back a restart to
// since when (unix seconds).
func (q *Queries) RestartsPending(ctx context.Context) (map[string]int64, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT server, restart_pending FROM agent_status WHERE restart_pending <> 0`)
	if err != nil {
		return nil, fmt.Errorf("listing pending restarts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var at int64
		if err := rows.Scan(&s, &at); err != nil {
			return nil, fmt.Errorf("listing pending restarts: %w", err)
		}
		out[s] = at
	}
	return out, rows.Err()
}
