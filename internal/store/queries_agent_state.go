package store

import (
	"context"
	"fmt"
)

// RevokedUnexpired lists the serials of the revoked certificates that
// have not expired at now (unix seconds), in serial order: the
// certificates whose sessions an agent must end.
func (q *Queries) RevokedUnexpired(ctx context.Context, now int64) ([]string, error) {
	return q.strings(ctx, "listing revoked serials", `SELECT serial FROM certificates
		WHERE state = 'revoked' AND not_after > $1 ORDER BY serial`, now)
}

// RefusedUsers lists, in name order, the users who hold no active client
// certificate (revoked users): an agent ends their sessions even when it
// does not know the session's certificate.
func (q *Queries) RefusedUsers(ctx context.Context) ([]string, error) {
	return q.strings(ctx, "listing refused users", `SELECT u.name FROM users u
		WHERE NOT EXISTS (SELECT 1 FROM certificates c
			WHERE c.kind = 'client' AND c.subject = u.name AND c.state = 'active')
		ORDER BY u.name`)
}

// strings runs a query of one text column.
func (q *Queries) strings(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
