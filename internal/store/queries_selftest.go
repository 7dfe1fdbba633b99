package store

import (
	"context"
	"fmt"
)

// SelfTestResult is the newest result of one self-test check of one
// server (table selftest_results). At is unix seconds.
type SelfTestResult struct {
	Server string
	Name   string
	OK     bool
	Detail string
	At     int64
}

// SaveSelfTest stores r, replacing the server's previous result of the
// same check and keeping whether the admin was alerted.
func (q *Queries) SaveSelfTest(ctx context.Context, r SelfTestResult) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO selftest_results (server, name, ok, detail, at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (server, name) DO UPDATE SET ok = excluded.ok, detail = excluded.detail, at = excluded.at`,
		r.Server, r.Name, r.OK, r.Detail, r.At)
	if err != nil {
		return fmt.Errorf("saving self-test result: %w", err)
	}
	return nil
}

// ClaimSelfTestAlert marks the check as alerted (failing, true) or not
// (passing, false) when it now is in that state and was not marked yet,
// and tells whether this call changed the mark: the caller that gets
// true sends the mail, whichever instance it runs in.
func (q *Queries) ClaimSelfTestAlert(ctx context.Context, server, name string, failing bool) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE selftest_results SET alerted = $1
		WHERE server = $2 AND name = $3 AND ok = $4 AND alerted = $5`, failing, server, name, !failing, !failing)
	if err != nil {
		return false, fmt.Errorf("claiming self-test alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claiming self-test alert: %w", err)
	}
	return n == 1, nil
}

// UnclaimSelfTestAlert puts the alert mark back (alerted is its value
// before the claim) when the claimed mail could not be sent, so a later
// report tries again.
func (q *Queries) UnclaimSelfTestAlert(ctx context.Context, server, name string, alerted bool) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE selftest_results SET alerted = $1 WHERE server = $2 AND name = $3`,
		alerted, server, name); err != nil {
		return fmt.Errorf("releasing self-test alert: %w", err)
	}
	return nil
}

// SelfTestResults lists every server's newest results, by server and
// check name.
func (q *Queries) SelfTestResults(ctx context.Context) ([]SelfTestResult, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT server, name, ok, detail, at FROM selftest_results ORDER BY server, name`)
	if err != nil {
		return nil, fmt.Errorf("listing self-test results: %w", err)
	}
	defer rows.Close()
	var out []SelfTestResult
	for rows.Next() {
		var r SelfTestResult
		if err := rows.Scan(&r.Server, &r.Name, &r.OK, &r.Detail, &r.At); err != nil {
			return nil, fmt.Errorf("listing self-test results: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
