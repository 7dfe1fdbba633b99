package web

import (
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// The API's view of the agents: who is connected where, each server's
// agent, and ending a user's sessions everywhere without revoking. The
// JSON shapes are the service's view types, as the CLI's --json prints
// them.

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.auth.Sessions(r.Context(), r.URL.Query().Get("server"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
	return nil
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	list, err := s.auth.AgentStatus(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []authority.AgentView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": list})
	return nil
}

func (s *Server) disconnectUser(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := s.auth.Disconnect(r.Context(), r.PathValue("user"), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
