package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// defaultTLSMode is what servers.tls_mode holds when nothing else was
// chosen: the company's static key as tls-crypt, as before issue 14.
const defaultTLSMode = "tls-crypt"

func tlsModeOrDefault(m string) string {
	if m == "" {
		return defaultTLSMode
	}
	return m
}

// SetServerTLSMode changes a server's control-channel mode (ErrNotFound
// when there is no such server). The caller checks mode.
func (q *Queries) SetServerTLSMode(ctx context.Context, name, mode string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE servers SET tls_mode = $1 WHERE name = $2`, tlsModeOrDefault(mode), name)
	if err != nil {
		return fmt.Errorf("setting tls mode of server %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("server %s: %w", name, ErrNotFound)
	}
	return nil
}

// TLSCryptV2Key returns the sealed tls-crypt-v2 server key, nil when none
// was made yet (ErrNotFound before the CA exists).
func (q *Queries) TLSCryptV2Key(ctx context.Context) ([]byte, error) {
	var k []byte
	err := q.q.QueryRowContext(ctx, `SELECT tls_crypt_v2 FROM ca WHERE id = 1`).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tls-crypt-v2 key: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading tls-crypt-v2 key: %w", err)
	}
	return k, nil
}

// PutTLSCryptV2Key stores the sealed tls-crypt-v2 server key unless one
// is stored already, and tells whether it did: a process that loses the
// race reads the winner's key with TLSCryptV2Key.
func (q *Queries) PutTLSCryptV2Key(ctx context.Context, sealed []byte) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE ca SET tls_crypt_v2 = $1 WHERE id = 1 AND tls_crypt_v2 IS NULL`, sealed)
	if err != nil {
		return false, fmt.Errorf("storing tls-crypt-v2 key: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
