package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Link is a one-time download link; only the token's hash is stored.
type Link struct {
	TokenHash string
	User      string
	Serial    string
	CreatedAt int64
	ExpiresAt int64
	OpenedAt  int64
	UsedAt    int64
	UsedFrom  string
	// Purpose is LinkDownload ("" is taken as it) or LinkRenew.
	Purpose string
}

// What a link does when used (links.purpose, migration 0011).
const (
	LinkDownload = "download" // hands out the user's current profile
	LinkRenew    = "renew"    // renews the certificate, hands out the new profile
)

// InsertLink stores a new link.
func (q *Queries) InsertLink(ctx context.Context, l Link) error {
	if l.Purpose == "" {
		l.Purpose = LinkDownload
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO links (token_hash, user_name, serial, created_at, expires_at, purpose) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.TokenHash, l.User, l.Serial, l.CreatedAt, l.ExpiresAt, l.Purpose)
	if err != nil {
		return fmt.Errorf("storing link: %w", err)
	}
	return nil
}

// GetLink loads a link by token hash (ErrNotFound).
func (q *Queries) GetLink(ctx context.Context, hash string) (Link, error) {
	var l Link
	var opened, used sql.NullInt64
	var from sql.NullString
	err := q.q.QueryRowContext(ctx, `SELECT token_hash, user_name, serial, created_at, expires_at, opened_at, used_at, used_from, purpose
		FROM links WHERE token_hash = $1`, hash).Scan(&l.TokenHash, &l.User, &l.Serial, &l.CreatedAt, &l.ExpiresAt, &opened, &used, &from, &l.Purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, fmt.Errorf("link: %w", ErrNotFound)
	}
	if err != nil {
		return Link{}, fmt.Errorf("loading link: %w", err)
	}
	l.OpenedAt, l.UsedAt, l.UsedFrom = opened.Int64, used.Int64, from.String
	return l, nil
}

// MarkLinkOpened records the first time a link's page was shown.
func (q *Queries) MarkLinkOpened(ctx context.Context, hash string, at int64) error {
	_, err := q.q.ExecContext(ctx, `UPDATE links SET opened_at = $1 WHERE token_hash = $2 AND opened_at IS NULL`, at, hash)
	if err != nil {
		return fmt.Errorf("updating link: %w", err)
	}
	return nil
}

// RedeemLink uses a link up: it succeeds for exactly one caller, however
// many race, only before expiry, and only while the certificate it was made
// for is still active and unexpired (ErrConflict otherwise), so a link never
// outlives its certificate.
func (q *Queries) RedeemLink(ctx context.Context, hash string, at int64, from string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE links SET used_at = $1, used_from = $2
		WHERE token_hash = $3 AND used_at IS NULL AND expires_at > $1
		AND EXISTS (SELECT 1 FROM certificates c WHERE c.serial = links.serial AND c.state = 'active' AND c.not_after > $1)`, at, from, hash)
	if err != nil {
		return fmt.Errorf("redeeming link: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("link used or expired: %w", ErrConflict)
	}
	return nil
}

// LinksOf lists a user's links, newest first.
func (q *Queries) LinksOf(ctx context.Context, user string) ([]Link, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT token_hash, user_name, serial, created_at, expires_at, COALESCE(opened_at, 0), COALESCE(used_at, 0), COALESCE(used_from, '')
		FROM links WHERE user_name = $1 ORDER BY created_at DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.TokenHash, &l.User, &l.Serial, &l.CreatedAt, &l.ExpiresAt, &l.OpenedAt, &l.UsedAt, &l.UsedFrom); err != nil {
			return nil, fmt.Errorf("listing links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CountOpenLinks counts the unused, unexpired links made for the given
// certificates (what revoking or renewing them ends).
func (q *Queries) CountOpenLinks(ctx context.Context, serials []string, now int64) (int, error) {
	n := 0
	for _, s := range serials {
		var k int
		if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM links WHERE serial = $1 AND used_at IS NULL AND expires_at > $2`, s, now).Scan(&k); err != nil {
			return 0, fmt.Errorf("counting links: %w", err)
		}
		n += k
	}
	return n, nil
}

// CountRedeemed counts used links, for metrics.
func (q *Queries) CountRedeemed(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM links WHERE used_at IS NOT NULL`).Scan(&n)
	return n, err
}
