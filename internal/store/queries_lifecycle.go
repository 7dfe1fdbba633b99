package store

import (
	"context"
	"fmt"
	"strings"
)

// StatePending marks a certificate recorded before its key reached the
// disk and not yet handed out (see migration 0004).
const StatePending = "pending"

// ActivateCert makes a pending certificate active. It gives ErrConflict
// when the certificate is not pending any more (a sweep revoked it as
// abandoned) or when the subject already has an active certificate.
func (q *Queries) ActivateCert(ctx context.Context, serial string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE certificates SET state = 'active' WHERE serial = $1 AND state = 'pending'`, serial)
	if err != nil {
		if lostRace(err) {
			return fmt.Errorf("activating certificate %s: %w", serial, ErrConflict.With(err))
		}
		return fmt.Errorf("activating certificate %s: %w", serial, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("certificate %s is not pending: %w", serial, ErrConflict)
	}
	return nil
}

// DeletePending forgets pending certificates whose keys never left memory
// or whose staged files were removed again.
func (q *Queries) DeletePending(ctx context.Context, serials []string) error {
	for start := 0; start < len(serials); start += 500 {
		part := serials[start:min(start+500, len(serials))]
		args := make([]any, len(part))
		marks := make([]string, len(part))
		for i, s := range part {
			args[i], marks[i] = s, fmt.Sprintf("$%d", i+1)
		}
		if _, err := q.q.ExecContext(ctx, `DELETE FROM certificates WHERE state = 'pending' AND serial IN (`+strings.Join(marks, ", ")+`)`, args...); err != nil {
			return fmt.Errorf("forgetting pending certificates: %w", err)
		}
	}
	return nil
}

// EndedCert names a certificate a bulk change revoked.
type EndedCert struct {
	Serial  string
	Kind    string
	Subject string
}

// HasAbandoned tells whether any certificate has been pending since before
// cutoff (a cheap read before RevokeAbandoned's write).
func (q *Queries) HasAbandoned(ctx context.Context, cutoff int64) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE state = 'pending' AND created_at < $1`, cutoff).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking for abandoned certificates: %w", err)
	}
	return n > 0, nil
}

// RevokeAbandoned revokes every certificate left pending since before
// cutoff by a process that died between recording and handing it out, and
// returns them.
func (q *Queries) RevokeAbandoned(ctx context.Context, cutoff, at int64, reason string) ([]EndedCert, error) {
	return q.revokeReturning(ctx, `UPDATE certificates SET state = 'revoked', revoked_at = $1, reason = $2
		WHERE state = 'pending' AND created_at < $3 RETURNING serial, kind, subject`, at, reason, cutoff)
}

// RevokeAllOf revokes every certificate of a subject that is not revoked
// and not expired at now: the active one and any older one still valid
// (an imported easy-rsa PKI can hold several), so that none of them passes
// the CRL.
func (q *Queries) RevokeAllOf(ctx context.Context, kind, subject string, at int64, reason string, now int64) ([]EndedCert, error) {
	return q.revokeReturning(ctx, `UPDATE certificates SET state = 'revoked', revoked_at = $1, reason = $2
		WHERE kind = $3 AND subject = $4 AND state IN ('active', 'superseded') AND not_after > $5
		RETURNING serial, kind, subject`, at, reason, kind, subject, now)
}

func (q *Queries) revokeReturning(ctx context.Context, query string, args ...any) ([]EndedCert, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("revoking certificates: %w", err)
	}
	defer rows.Close()
	var out []EndedCert
	for rows.Next() {
		var e EndedCert
		if err := rows.Scan(&e.Serial, &e.Kind, &e.Subject); err != nil {
			return nil, fmt.Errorf("revoking certificates: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
