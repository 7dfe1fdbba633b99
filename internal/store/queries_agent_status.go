package store

import (
	"context"
	"fmt"
)

// SessionEnd is a request to end a user's sessions that began at or
// before Before (unix seconds) on every server, without revoking
// (`vpnkeys disconnect`). ID is the change version that recorded it.
type SessionEnd struct {
	ID        int64
	User      string
	Before    int64
	Reason    string
	CreatedAt int64
}

// SessionEnds lists the requests created after createdAfter (unix
// seconds), oldest first.
func (q *Queries) SessionEnds(ctx context.Context, createdAfter int64) ([]SessionEnd, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, username, before_at, reason, created_at FROM session_ends
		WHERE created_at > $1 ORDER BY id`, createdAfter)
	if err != nil {
		return nil, fmt.Errorf("listing session ends: %w", err)
	}
	defer rows.Close()
	var out []SessionEnd
	for rows.Next() {
		var e SessionEnd
		if err := rows.Scan(&e.ID, &e.User, &e.Before, &e.Reason, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing session ends: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
