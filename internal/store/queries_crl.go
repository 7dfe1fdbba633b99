package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// NextCRLNumber reserves the next CRL number. The increment happens under
// the row's write lock, so concurrent callers never get the same number and
// numbers only grow. Call it in the transaction that saves the CRL.
func (q *Queries) NextCRLNumber(ctx context.Context) (int64, error) {
	var n int64
	if err := q.q.QueryRowContext(ctx, `UPDATE crl SET number = number + 1 WHERE id = 1 RETURNING number`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reserving CRL number: %w", err)
	}
	return n, nil
}

// SaveCRL stores a signed CRL whose number came from NextCRLNumber.
func (q *Queries) SaveCRL(ctx context.Context, c CRL) error {
	_, err := q.q.ExecContext(ctx, `UPDATE crl SET der = $1, this_update = $2, next_update = $3 WHERE id = 1 AND number = $4`,
		c.DER, unix(c.ThisUpdate), unix(c.NextUpdate), c.Number)
	if err != nil {
		return fmt.Errorf("storing CRL: %w", err)
	}
	return nil
}

// GetCRL loads the newest CRL (ErrNotFound before the first one).
func (q *Queries) GetCRL(ctx context.Context) (CRL, error) {
	var c CRL
	var this, next int64
	err := q.q.QueryRowContext(ctx, `SELECT number, der, this_update, next_update FROM crl WHERE id = 1 AND der IS NOT NULL`).
		Scan(&c.Number, &c.DER, &this, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return CRL{}, fmt.Errorf("CRL: %w", ErrNotFound)
	}
	if err != nil {
		return CRL{}, fmt.Errorf("loading CRL: %w", err)
	}
	c.ThisUpdate, c.NextUpdate = fromUnix(this), fromUnix(next)
	return c, nil
}

// RaiseCRLNumber makes the next CRL number at least n+1, so an adopted
// PKI's CRL numbers keep growing.
func (q *Queries) RaiseCRLNumber(ctx context.Context, n int64) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE crl SET number = $1 WHERE id = 1 AND number < $1`, n); err != nil {
		return fmt.Errorf("raising CRL number: %w", err)
	}
	return nil
}
