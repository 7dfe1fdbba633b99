package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InsertCert records an issued certificate. A second active certificate for
// the same kind and subject, or a reused serial, gives ErrConflict.
func (q *Queries) InsertCert(ctx context.Context, c Cert) error {
	var revokedAt any
	if !c.RevokedAt.IsZero() {
		revokedAt = unix(c.RevokedAt)
	}
	var reason any
	if c.Reason != "" {
		reason = c.Reason
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO certificates
		(serial, kind, subject, cert_pem, key_sealed, not_before, not_after, state, revoked_at, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Serial, c.Kind, c.Subject, c.CertPEM, c.KeySealed, unix(c.NotBefore), unix(c.NotAfter),
		c.State, revokedAt, reason, unix(c.CreatedAt))
	if err != nil {
		if lostRace(err) {
			return fmt.Errorf("certificate %s for %s: %w", c.Serial, c.Subject, ErrConflict.With(err))
		}
		return fmt.Errorf("storing certificate %s: %w", c.Serial, err)
	}
	return nil
}

const certColumns = `serial, kind, subject, cert_pem, key_sealed, not_before, not_after, state, revoked_at, reason, created_at`

func scanCert(s scanner) (Cert, error) {
	var c Cert
	var notBefore, notAfter, created int64
	var revokedAt sql.NullInt64
	var reason sql.NullString
	if err := s.Scan(&c.Serial, &c.Kind, &c.Subject, &c.CertPEM, &c.KeySealed, &notBefore, &notAfter,
		&c.State, &revokedAt, &reason, &created); err != nil {
		return Cert{}, err
	}
	c.NotBefore, c.NotAfter, c.CreatedAt = fromUnix(notBefore), fromUnix(notAfter), fromUnix(created)
	c.RevokedAt, c.Reason = fromUnix(revokedAt.Int64), reason.String
	return c, nil
}

// ActiveCert returns the active certificate of a subject (ErrNotFound).
func (q *Queries) ActiveCert(ctx context.Context, kind, subject string) (Cert, error) {
	c, err := scanCert(q.q.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates
		WHERE kind = $1 AND subject = $2 AND state = 'active'`, kind, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return Cert{}, fmt.Errorf("active certificate of %s: %w", subject, ErrNotFound)
	}
	if err != nil {
		return Cert{}, fmt.Errorf("loading certificate of %s: %w", subject, err)
	}
	return c, nil
}

// CertsOf lists every certificate of a subject, newest first.
func (q *Queries) CertsOf(ctx context.Context, kind, subject string) ([]Cert, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates
		WHERE kind = $1 AND subject = $2 ORDER BY (state = 'active') DESC, created_at DESC, COALESCE(revoked_at, 0) DESC`, kind, subject)
	if err != nil {
		return nil, fmt.Errorf("listing certificates of %s: %w", subject, err)
	}
	return collectCerts(rows)
}

// AllCerts lists every certificate, oldest first (for export and copy).
func (q *Queries) AllCerts(ctx context.Context) ([]Cert, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates ORDER BY created_at, serial`)
	if err != nil {
		return nil, fmt.Errorf("listing certificates: %w", err)
	}
	return collectCerts(rows)
}

func collectCerts(rows *sql.Rows) ([]Cert, error) {
	defer rows.Close()
	var out []Cert
	for rows.Next() {
		c, err := scanCert(rows)
		if err != nil {
			return nil, fmt.Errorf("reading certificate: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EndCert moves an active certificate to state (revoked or superseded).
// It gives ErrConflict when the certificate is not active any more, so two
// concurrent revocations record one.
func (q *Queries) EndCert(ctx context.Context, serial, state string, at int64, reason string) error {
	var revokedAt, why any
	if state == StateRevoked {
		revokedAt, why = at, reason
	}
	res, err := q.q.ExecContext(ctx, `UPDATE certificates SET state = $1, revoked_at = $2, reason = $3
		WHERE serial = $4 AND state = 'active'`, state, revokedAt, why, serial)
	if err != nil {
		return fmt.Errorf("updating certificate %s: %w", serial, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("certificate %s is not active: %w", serial, ErrConflict)
	}
	return nil
}

// RevokedEntry is a CRL line.
type RevokedEntry struct {
	Serial    string
	RevokedAt int64
	Reason    string
}

// Revoked lists every revoked certificate, for the CRL.
func (q *Queries) Revoked(ctx context.Context) ([]RevokedEntry, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT serial, revoked_at, COALESCE(reason, '') FROM certificates
		WHERE state = 'revoked' ORDER BY revoked_at, serial`)
	if err != nil {
		return nil, fmt.Errorf("listing revoked certificates: %w", err)
	}
	defer rows.Close()
	var out []RevokedEntry
	for rows.Next() {
		var e RevokedEntry
		if err := rows.Scan(&e.Serial, &e.RevokedAt, &e.Reason); err != nil {
			return nil, fmt.Errorf("listing revoked certificates: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
