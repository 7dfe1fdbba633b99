package store

import (
	"context"
	"fmt"
	"strconv"
)

// Change is one row of the outbox: something agents must learn of.
type Change struct {
	Version int64
	At      int64
	Kind    string // "crl", "user.revoke", "server.add", "server.cert"
	Subject string // a user or server name, or the CRL number
	Detail  string // JSON, or ""
}

// RecordChange writes a change in the caller's transaction and returns its
// version. The version counter is incremented under its row lock, held to
// the commit: concurrent writers commit in version order, so a reader that
// sees version N has every change before it. Call it last in a
// transaction, to hold the lock briefly. On PostgreSQL it also notifies
// ChangesChannel, which every listening instance hears at the commit.
func (q *Queries) RecordChange(ctx context.Context, c Change) (int64, error) {
	var v int64
	if err := q.q.QueryRowContext(ctx, `UPDATE change_version SET n = n + 1 WHERE id = 1 RETURNING n`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reserving change version: %w", err)
	}
	if _, err := q.q.ExecContext(ctx, `INSERT INTO changes (version, at, kind, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		v, c.At, c.Kind, c.Subject, c.Detail); err != nil {
		return 0, fmt.Errorf("recording change: %w", err)
	}
	if q.dialect == Postgres {
		// Delivered at commit, to every instance that listens (ListenChanges).
		if _, err := q.q.ExecContext(ctx, `SELECT pg_notify('`+ChangesChannel+`', $1)`, strconv.FormatInt(v, 10)); err != nil {
			return 0, fmt.Errorf("notifying change: %w", err)
		}
	}
	return v, nil
}

// Version is the newest committed change version (0 before any change).
func (q *Queries) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := q.q.QueryRowContext(ctx, `SELECT n FROM change_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading change version: %w", err)
	}
	return v, nil
}

// ChangesSince lists the changes after version since, oldest first, at most
// limit of them.
func (q *Queries) ChangesSince(ctx context.Context, since int64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := q.q.QueryContext(ctx, `SELECT version, at, kind, subject, detail FROM changes
		WHERE version > $1 ORDER BY version LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("listing changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Version, &c.At, &c.Kind, &c.Subject, &c.Detail); err != nil {
			return nil, fmt.Errorf("listing changes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
