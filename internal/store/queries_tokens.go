package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// APIToken is an API bearer token; only its hash is stored.
type APIToken struct {
	Name      string
	Hash      string
	CreatedAt int64
	RevokedAt int64
	LastUsed  int64
}

// InsertToken stores a token (ErrExists when the name is taken).
func (q *Queries) InsertToken(ctx context.Context, t APIToken) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		t.Name, t.Hash, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("storing token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %s: %w", t.Name, ErrExists)
	}
	return nil
}

// TokenByHash finds a live (not revoked) token.
func (q *Queries) TokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	var revoked, used sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT name, token_hash, created_at, revoked_at, last_used FROM api_tokens WHERE token_hash = $1`, hash).
		Scan(&t.Name, &t.Hash, &t.CreatedAt, &revoked, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("loading token: %w", err)
	}
	t.RevokedAt, t.LastUsed = revoked.Int64, used.Int64
	return t, nil
}

// TouchToken records a token's use.
func (q *Queries) TouchToken(ctx context.Context, name string, at int64) error {
	_, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET last_used = $1 WHERE name = $2`, at, name)
	return err
}

// RevokeToken revokes a token (ErrNotFound when no live token has the name).
func (q *Queries) RevokeToken(ctx context.Context, name string, at int64) error {
	res, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`, at, name)
	if err != nil {
		return fmt.Errorf("revoking token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %s: %w", name, ErrNotFound)
	}
	return nil
}

// ListTokens lists tokens (never their hashes' preimages, which are not kept).
func (q *Queries) ListTokens(ctx context.Context) ([]APIToken, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT name, created_at, COALESCE(revoked_at, 0), COALESCE(last_used, 0) FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		if err := rows.Scan(&t.Name, &t.CreatedAt, &t.RevokedAt, &t.LastUsed); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
