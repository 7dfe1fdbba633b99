package web

import (
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// The API's side of the daily work the CLI already does: register, change
// and remove servers, and take a user away for good.

type serverRequest struct {
	Name       string   `json:"name"`
	Remote     string   `json:"remote"`
	Subnet     string   `json:"subnet"`
	PushRoutes []string `json:"push_routes"`
	DNS        []string `json:"dns"`
	Domain     string   `json:"domain"`
	Days       *int     `json:"days"`     // the server certificate's lifetime
	TLSMode    string   `json:"tls_mode"` // "" is tls-crypt
}

func (s *Server) addServer(w http.ResponseWriter, r *http.Request) error {
	var req serverRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	days, err := requestDays(req.Days)
	if err != nil {
		return err
	}
	v, err := s.auth.AddServer(r.Context(), authority.ServerRequest{Name: req.Name, Remote: req.Remote, Subnet: req.Subnet,
		Push: ovpn.Push{Routes: req.PushRoutes, DNS: req.DNS, Domain: req.Domain}, Days: days, TLSMode: req.TLSMode})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// serverChange is a PATCH: fields left out keep their values.
type serverChange struct {
	Remote     string    `json:"remote"`
	Subnet     string    `json:"subnet"`
	PushRoutes *[]string `json:"push_routes"`
	DNS        *[]string `json:"dns"`
	Domain     *string   `json:"domain"`
	TLSMode    string    `json:"tls_mode"` // "" keeps it
}

func (s *Server) setServer(w http.ResponseWriter, r *http.Request) error {
	var req serverChange
	if err := decode(w, r, &req); err != nil {
		return err
	}
	v, err := s.auth.SetServer(r.Context(), authority.ServerChange{Name: r.PathValue("server"), Remote: req.Remote, Subnet: req.Subnet,
		PushRoutes: req.PushRoutes, DNS: req.DNS, Domain: req.Domain, TLSMode: req.TLSMode})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) removeServer(w http.ResponseWriter, r *http.Request) error {
	outs, err := s.auth.RemoveServer(r.Context(), r.PathValue("server"))
	if err != nil {
		return err
	}
	if outs == nil {
		outs = []authority.ServerFolder{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"server": r.PathValue("server"), "removed": true, "folders_left": outs})
	return nil
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) error {
	reason := r.URL.Query().Get("reason")
	if err := authority.ValidReason(reason); err != nil {
		return err
	}
	res, err := s.auth.RemoveUser(r.Context(), r.PathValue("user"), "", reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": r.PathValue("user"), "removed": true, "revoked": res.Revoked, "links_deleted": res.Links})
	return nil
}
