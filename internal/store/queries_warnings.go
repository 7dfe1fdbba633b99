package store

import (
	"context"
	"fmt"
)

// WarnCandidate is an active user certificate that ends soon, with what a
// warning mail to its user needs.
type WarnCandidate struct {
	Serial   string
	User     string
	Email    string
	FullName string
	OS       string
	Lang     string
	NotAfter int64 // unix seconds
}

// WarnCandidates lists the active client certificates of users that end
// after now and at or before horizon (unix seconds), soonest first.
func (q *Queries) WarnCandidates(ctx context.Context, now, horizon int64) ([]WarnCandidate, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT c.serial, u.name, u.email, u.full_name, u.os, u.lang, c.not_after
		FROM certificates c JOIN users u ON u.name = c.subject
		WHERE c.state = 'active' AND c.kind = 'client' AND c.not_after > $1 AND c.not_after <= $2
		ORDER BY c.not_after, u.name`, now, horizon)
	if err != nil {
		return nil, fmt.Errorf("listing certificates to warn about: %w", err)
	}
	defer rows.Close()
	var out []WarnCandidate
	for rows.Next() {
		var c WarnCandidate
		if err := rows.Scan(&c.Serial, &c.User, &c.Email, &c.FullName, &c.OS, &c.Lang, &c.NotAfter); err != nil {
			return nil, fmt.Errorf("listing certificates to warn about: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Warning is one row of expiry_warnings: a warning claimed or sent.
type Warning struct {
	Serial    string
	Days      int
	User      string
	ClaimedAt int64
	SentAt    int64 // 0 while claimed and not sent
	Passed    bool  // recorded by a catch-up, no mail of its own
}

// Warnings lists the recorded warnings about certificates that are still
// active, plus the digests (serial 'digest:...'), newest first.
func (q *Queries) Warnings(ctx context.Context) ([]Warning, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT w.serial, w.days, w.user_name, w.claimed_at, COALESCE(w.sent_at, 0), w.passed
		FROM expiry_warnings w LEFT JOIN certificates c ON c.serial = w.serial
		WHERE c.state = 'active' OR w.serial LIKE 'digest:%'
		ORDER BY w.claimed_at DESC, w.serial, w.days`)
	if err != nil {
		return nil, fmt.Errorf("listing warnings: %w", err)
	}
	defer rows.Close()
	var out []Warning
	for rows.Next() {
		var w Warning
		var passed int
		if err := rows.Scan(&w.Serial, &w.Days, &w.User, &w.ClaimedAt, &w.SentAt, &passed); err != nil {
			return nil, fmt.Errorf("listing warnings: %w", err)
		}
		w.Passed = passed != 0
		out = append(out, w)
	}
	return out, rows.Err()
}

// ClaimWarning claims the warning (serial, days) for claimant: it adds the
// row, or takes over a claim made at or before stale that was never sent
// (its sender died). It tells whether claimant now owns the warning; only
// the owner sends it. On PostgreSQL a racing INSERT waits for the other's
// commit and then adds nothing, so exactly one caller wins.
func (q *Queries) ClaimWarning(ctx context.Context, w Warning, claimant string, stale int64) (bool, error) {
	res, err := q.q.ExecContext(ctx, `INSERT INTO expiry_warnings (serial, days, user_name, claimed_at, claimed_by)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (serial, days) DO NOTHING`, w.Serial, w.Days, w.User, w.ClaimedAt, claimant)
	if err != nil {
		return false, fmt.Errorf("claiming warning: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = q.q.ExecContext(ctx, `UPDATE expiry_warnings SET claimed_at = $1, claimed_by = $2
		WHERE serial = $3 AND days = $4 AND sent_at IS NULL AND claimed_at <= $5`, w.ClaimedAt, claimant, w.Serial, w.Days, stale)
	if err != nil {
		return false, fmt.Errorf("taking over warning: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishWarning records that claimant sent the warning (serial, days) at
// sentAt, and records the farther thresholds passed as passed without a
// mail of their own (a catch-up). It tells false if claimant no longer
// held the claim (another instance took it over): nothing is changed.
func (q *Queries) FinishWarning(ctx context.Context, serial string, days int, claimant string, sentAt int64, passed []int) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE expiry_warnings SET sent_at = $1
		WHERE serial = $2 AND days = $3 AND claimed_by = $4 AND sent_at IS NULL`, sentAt, serial, days, claimant)
	if err != nil {
		return false, fmt.Errorf("recording warning: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	for _, d := range passed {
		if _, err := q.q.ExecContext(ctx, `INSERT INTO expiry_warnings (serial, days, user_name, claimed_at, claimed_by, sent_at, passed)
			SELECT serial, $1, user_name, claimed_at, claimed_by, sent_at, 1 FROM expiry_warnings WHERE serial = $2 AND days = $3
			ON CONFLICT (serial, days) DO NOTHING`, d, serial, days); err != nil {
			return false, fmt.Errorf("recording passed warning: %w", err)
		}
	}
	return true, nil
}

// ReleaseWarning drops claimant's unsent claim on (serial, days), so that a
// later pass tries again.
func (q *Queries) ReleaseWarning(ctx context.Context, serial string, days int, claimant string) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM expiry_warnings WHERE serial = $1 AND days = $2 AND claimed_by = $3 AND sent_at IS NULL`,
		serial, days, claimant)
	if err != nil {
		return fmt.Errorf("releasing warning: %w", err)
	}
	return nil
}

// UnredeemLink makes a used link usable again: a renewal link whose
// renewal failed after it was used up.
func (q *Queries) UnredeemLink(ctx context.Context, hash string) error {
	_, err := q.q.ExecContext(ctx, `UPDATE links SET used_at = NULL, used_from = NULL WHERE token_hash = $1`, hash)
	if err != nil {
		return fmt.Errorf("restoring link: %w", err)
	}
	return nil
}

// DeleteLink drops a link (a renewal link whose mail never went).
func (q *Queries) DeleteLink(ctx context.Context, hash string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM links WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("deleting link: %w", err)
	}
	return nil
}
