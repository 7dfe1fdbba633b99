package web

import (
	"net/http"
)

// agentJoin spends a join token and returns the agent's certificate.
func (s *Server) agentJoin(w http.ResponseWriter, r *http.Request) error {
	return errTODO
}

// agentOnly admits a request only with a verified agent certificate of
// the server named in the path.
func (s *Server) agentOnly(next apiHandler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error { return errTODO })
}
