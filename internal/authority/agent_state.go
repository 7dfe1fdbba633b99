package authority

import (
	"context"

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
