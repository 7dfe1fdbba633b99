package store

import (
	"context"
	"fmt"
)

// ExpiringCert is an active user or server certificate and its end.
type ExpiringCert struct {
	Serial   string
	Kind     string // KindClient or KindServer
	Subject  string
	NotAfter int64 // unix seconds
}

// ExpiringCerts lists the active user and server certificates that end
// after now and at or before horizon (unix seconds), soonest first. The
// partial index certificates_expiry (migration 0010) serves it; the table
// holds only those two kinds (its CHECK), so no kind condition steers the
// planner to the (kind, subject) index instead. Left out, because
// vpnkeys renews them itself while they are in use: the self-test probes
// (subject "probe:SERVER") and serve's own HTTPS certificates ("https:HOST",
// 30 days, renewed at two thirds of their life), which would otherwise be
// in every 30-day list and every admin digest.
func (q *Queries) ExpiringCerts(ctx context.Context, now, horizon int64) ([]ExpiringCert, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT serial, kind, subject, not_after FROM certificates
		WHERE state = 'active' AND not_after > $1 AND not_after <= $2
			AND NOT (kind = 'client' AND subject LIKE 'probe%:%')
			AND NOT (kind = 'server' AND subject LIKE 'https:%')
		ORDER BY not_after, subject`, now, horizon)
	if err != nil {
		return nil, fmt.Errorf("listing expiring certificates: %w", err)
	}
	defer rows.Close()
	var out []ExpiringCert
	for rows.Next() {
		var c ExpiringCert
		if err := rows.Scan(&c.Serial, &c.Kind, &c.Subject, &c.NotAfter); err != nil {
			return nil, fmt.Errorf("listing expiring certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
