package authority

import (
	"context"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// AgentState is the complete desired state of server's folder.
func (a *Authority) AgentState(ctx context.Context, server string) (agentwire.State, error) {
	return a.agentState(ctx, server) // agent_state_cache.go
}

// WaitChange returns the newest change version as soon as it is above
// since, or when ctx ends (then the version it knows, and no error).
func (a *Authority) WaitChange(ctx context.Context, since int64) (int64, error) {
	return a.waitChange(ctx, since) // hub.go
}

// ReportAgent records what server's agent reported.
func (a *Authority) ReportAgent(ctx context.Context, server string, r agentwire.Report) error {
	return errTODO
}

// SessionView is one live session, as the agent of Server last reported.
type SessionView struct {
	Server string `json:"server"`
	agentwire.Session
	Reported time.Time `json:"reported"`
}

// Sessions lists live sessions, of one server when server is not "".
func (a *Authority) Sessions(ctx context.Context, server string) ([]SessionView, error) {
	return nil, errTODO
}

// AgentView is a server's agent as `server status` shows it.
type AgentView struct {
	Server        string    `json:"server"`
	Enrolled      bool      `json:"enrolled"`
	LastSeen      time.Time `json:"last_seen"`
	Version       int64     `json:"version"`
	Lag           int64     `json:"lag"` // versions behind the newest
	AppliedAt     time.Time `json:"applied_at"`
	CRLNumber     int64     `json:"crl_number"`
	CRLNextUpdate time.Time `json:"crl_next_update"`
	CRLExpiring   bool      `json:"crl_expiring"` // within 3 days of nextUpdate
	Error         string    `json:"error,omitempty"`
	Management    bool      `json:"management"`
	Sessions      int       `json:"sessions"`
	Kills         int64     `json:"kills"`
}

// AgentStatus lists every server with its agent's last report.
func (a *Authority) AgentStatus(ctx context.Context) ([]AgentView, error) {
	return nil, errTODO
}

// DisconnectResult tells what Disconnect asked for.
type DisconnectResult struct {
	User     string `json:"user"`
	Version  int64  `json:"version"`
	Sessions int    `json:"sessions"` // sessions the agents last reported for the user
}

// Disconnect ends user's sessions on every server without revoking.
func (a *Authority) Disconnect(ctx context.Context, user, reason string) (DisconnectResult, error) {
	return DisconnectResult{}, errTODO
}
