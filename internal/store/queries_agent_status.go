package store

import (
	"context"
	"errors"
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
	return nil, errors.New("SessionEnds: not built yet")
}
