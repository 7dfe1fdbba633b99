package web

import (
	"errors"
	"net/http"
)

var errTODO = errors.New("not built yet")

// agentState long-polls the desired state of the server in the path.
func (s *Server) agentState(w http.ResponseWriter, r *http.Request) error {
	return errTODO
}

// agentReport records an agent's report.
func (s *Server) agentReport(w http.ResponseWriter, r *http.Request) error {
	return errTODO
}
