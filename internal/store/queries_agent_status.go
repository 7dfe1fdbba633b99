package store

import (
	"context"
	"fmt"
)

// AgentStatus is what a server's agent last reported (table agent_status,
// one row per server, replaced by each report). Times are unix seconds;
// Hashes (file name -> sha256 hex) and Sessions are JSON, as the service
// encodes them.
type AgentStatus struct {
	Server        string
	Serial        string // the agent certificate active when it reported
	LastSeen      int64
	Version       int64 // the change version it applied
	AppliedAt     int64
	CRLNumber     int64
	CRLNextUpdate int64
	Hashes        string
	Error         string
	Management    bool // the OpenVPN management socket answered
	Kills         int64
	AgentVersion  string
	Sessions      string
}

const agentStatusColumns = `server, serial, last_seen, version, applied_at, crl_number, crl_next_update,
	hashes, error, management, kills, agent_version, sessions`

// UpsertAgentStatus stores a report, replacing the server's previous one.
func (q *Queries) UpsertAgentStatus(ctx context.Context, s AgentStatus) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO agent_status (`+agentStatusColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (server) DO UPDATE SET serial = excluded.serial, last_seen = excluded.last_seen,
			version = excluded.version, applied_at = excluded.applied_at, crl_number = excluded.crl_number,
			crl_next_update = excluded.crl_next_update, hashes = excluded.hashes, error = excluded.error,
			management = excluded.management, kills = excluded.kills, agent_version = excluded.agent_version,
			sessions = excluded.sessions`,
		s.Server, s.Serial, s.LastSeen, s.Version, s.AppliedAt, s.CRLNumber, s.CRLNextUpdate,
		s.Hashes, s.Error, s.Management, s.Kills, s.AgentVersion, s.Sessions)
	if err != nil {
		return fmt.Errorf("storing the report of %s's agent: %w", s.Server, err)
	}
	return nil
}

// AgentStatuses lists the last report of every agent that reported, by
// server name.
func (q *Queries) AgentStatuses(ctx context.Context) ([]AgentStatus, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+agentStatusColumns+` FROM agent_status ORDER BY server`)
	if err != nil {
		return nil, fmt.Errorf("listing agent reports: %w", err)
	}
	defer rows.Close()
	var out []AgentStatus
	for rows.Next() {
		var s AgentStatus
		if err := rows.Scan(&s.Server, &s.Serial, &s.LastSeen, &s.Version, &s.AppliedAt, &s.CRLNumber, &s.CRLNextUpdate,
			&s.Hashes, &s.Error, &s.Management, &s.Kills, &s.AgentVersion, &s.Sessions); err != nil {
			return nil, fmt.Errorf("listing agent reports: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

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

// InsertSessionEnd records a request to end a user's sessions, in the
// transaction that records its change (whose version is its ID).
func (q *Queries) InsertSessionEnd(ctx context.Context, e SessionEnd) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO session_ends (id, username, before_at, reason, created_at)
		VALUES ($1, $2, $3, $4, $5)`, e.ID, e.User, e.Before, e.Reason, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("recording the end of %s's sessions: %w", e.User, err)
	}
	return nil
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
