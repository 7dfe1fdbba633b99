package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AgentJoin is a one-time join token of `vpnkeys server enroll`; only the
// hash of its secret is stored. UsedAt is 0 until a join spends it.
type AgentJoin struct {
	Hash       string
	Server     string
	CreatedAt  int64
	ExpiresAt  int64
	UsedAt     int64
	UsedSerial string
}

// InsertAgentJoin stores a new join token (ErrExists when its hash is
// taken, which 256 random bits make a bug, not a race).
func (q *Queries) InsertAgentJoin(ctx context.Context, j AgentJoin) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO agent_joins (token_hash, server, created_at, expires_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING`, j.Hash, j.Server, j.CreatedAt, j.ExpiresAt)
	if err != nil {
		return fmt.Errorf("storing join token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("join token: %w", ErrExists)
	}
	return nil
}

// AgentJoinByHash loads a join token by the hash of its secret
// (ErrNotFound). Inside a transaction it holds the row until the end: on
// PostgreSQL with FOR UPDATE, on SQLite by the write lock every vpnkeys
// transaction takes at its start; so of two joins racing with one token
// the second sees it spent.
func (q *Queries) AgentJoinByHash(ctx context.Context, hash string) (AgentJoin, error) {
	query := `SELECT token_hash, server, created_at, expires_at, used_at, used_serial FROM agent_joins WHERE token_hash = $1`
	if q.dialect == Postgres {
		query += ` FOR UPDATE`
	}
	var j AgentJoin
	err := q.q.QueryRowContext(ctx, query, hash).Scan(&j.Hash, &j.Server, &j.CreatedAt, &j.ExpiresAt, &j.UsedAt, &j.UsedSerial)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentJoin{}, fmt.Errorf("join token: %w", ErrNotFound)
	}
	if err != nil {
		return AgentJoin{}, fmt.Errorf("loading join token: %w", err)
	}
	return j, nil
}

// SpendAgentJoin marks a join token used by the join that issued serial.
// It succeeds once: a token spent already gives ErrConflict.
func (q *Queries) SpendAgentJoin(ctx context.Context, hash string, at int64, serial string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE agent_joins SET used_at = $1, used_serial = $2
		WHERE token_hash = $3 AND used_at = 0`, at, serial, hash)
	if err != nil {
		return fmt.Errorf("spending join token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("join token spent already: %w", ErrConflict)
	}
	return nil
}

// DeleteAgentJoins deletes server's join tokens not used yet and returns
// how many; the spent ones stay, as the record of which join issued which
// agent certificate.
func (q *Queries) DeleteAgentJoins(ctx context.Context, server string) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM agent_joins WHERE server = $1 AND used_at = 0`, server)
	if err != nil {
		return 0, fmt.Errorf("deleting join tokens of %s: %w", server, err)
	}
	return res.RowsAffected()
}

// CertBySerial loads a certificate by its serial (ErrNotFound), whatever
// its state: the agent listener looks up the serial of every request's
// client certificate, so a revoked or superseded one is refused at once.
func (q *Queries) CertBySerial(ctx context.Context, serial string) (Cert, error) {
	c, err := scanCert(q.q.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE serial = $1`, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return Cert{}, fmt.Errorf("certificate %s: %w", serial, ErrNotFound)
	}
	if err != nil {
		return Cert{}, fmt.Errorf("loading certificate %s: %w", serial, err)
	}
	return c, nil
}
