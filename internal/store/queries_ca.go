package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutCA stores the CA; there is only ever one (ErrExists otherwise).
func (q *Queries) PutCA(ctx context.Context, ca CA) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO ca (id, algo, cert_pem, key_pem, encrypted, tls_crypt, created_at)
		VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		ca.Algo, ca.CertPEM, ca.KeyPEM, ca.Encrypted, ca.TLSCrypt, unix(ca.CreatedAt))
	if err != nil {
		return fmt.Errorf("storing CA: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("CA: %w", ErrExists)
	}
	return nil
}

// GetCA loads the CA (ErrNotFound before init).
func (q *Queries) GetCA(ctx context.Context) (CA, error) {
	var ca CA
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT algo, cert_pem, key_pem, encrypted, tls_crypt, created_at FROM ca WHERE id = 1`).
		Scan(&ca.Algo, &ca.CertPEM, &ca.KeyPEM, &ca.Encrypted, &ca.TLSCrypt, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return CA{}, fmt.Errorf("CA: %w", ErrNotFound)
	}
	if err != nil {
		return CA{}, fmt.Errorf("loading CA: %w", err)
	}
	ca.CreatedAt = fromUnix(created)
	return ca, nil
}

// SetCAKey replaces the stored CA key (a passphrase change).
func (q *Queries) SetCAKey(ctx context.Context, keyPEM string, encrypted bool) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE ca SET key_pem = $1, encrypted = $2 WHERE id = 1`, keyPEM, encrypted); err != nil {
		return fmt.Errorf("storing CA key: %w", err)
	}
	return nil
}
