package web

import (
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// AgentHandler serves the agent listener (serve --agent-listen): the join
// of a new agent (token in the body, no client certificate) and, for an
// agent certificate of the server named in the path, its desired state
// (a long-poll), its reports and the renewal of its own certificate. It is a listener of its own, so the
// employees' pages and the admins' API never accept agent certificates
// and agents never reach the API.
func (s *Server) AgentHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+agentwire.PathJoin, s.handle(s.agentJoin))
	mux.Handle("GET "+agentwire.PathServers+"{server}/state", s.agentOnly(s.agentState))
	mux.Handle("POST "+agentwire.PathServers+"{server}/report", s.agentOnly(s.agentReport))
	mux.Handle("POST "+agentwire.PathServers+"{server}/renew", s.handle(s.agentRenew)) // admits the caller itself
	return s.logRequests(securityHeaders(mux))
}
