package authority

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// JoinTokenTTL is how long a join token of EnrollServer lasts.
const JoinTokenTTL = time.Hour

// JoinToken is a one-time token that lets the agent of Server join.
type JoinToken struct {
	Server  string
	Token   string // agentwire.FormatToken: CA fingerprint and secret
	Expires time.Time
}

// errTODO marks what the skeleton has not built yet.
var errTODO = fault.New(fault.Internal, "todo", "not built yet")

// EnrollServer makes a one-time join token for the agent of server.
func (a *Authority) EnrollServer(ctx context.Context, server string) (JoinToken, error) {
	return JoinToken{}, errTODO
}

// JoinAgent spends a join token and issues the agent's certificate for
// the key of the CSR. from is the peer's address, for the audit log.
func (a *Authority) JoinAgent(ctx context.Context, req agentwire.JoinRequest, from string) (agentwire.JoinResponse, error) {
	return agentwire.JoinResponse{}, errTODO
}

// AgentServer checks the verified client certificate presented on the
// agent listener and returns the server whose agent it identifies.
func (a *Authority) AgentServer(ctx context.Context, cert *x509.Certificate, from string) (string, error) {
	return "", errTODO
}
