package web

import (
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// The API of access control (issue 13): groups, their rules and members,
// and the access check; the same service calls as the CLI's group and
// access commands.

func (s *Server) groupRoutes() []route {
	return []route{
		{"GET", "/api/v1/groups", s.listGroups},
		{"POST", "/api/v1/groups", s.addGroup},
		{"GET", "/api/v1/groups/{group}", s.showGroup},
		{"PATCH", "/api/v1/groups/{group}", s.editGroup},
		{"DELETE", "/api/v1/groups/{group}", s.removeGroup},
		{"PUT", "/api/v1/groups/{group}/members/{user}", s.addMember},
		{"DELETE", "/api/v1/groups/{group}/members/{user}", s.removeMember},
		{"GET", "/api/v1/access/check", s.accessCheck},
	}
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	list, err := s.auth.Groups(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []authority.GroupView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": list})
	return nil
}

type groupRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Allow       []string `json:"allow"`
	IMeanIt     bool     `json:"i_mean_it"`
}

func (s *Server) addGroup(w http.ResponseWriter, r *http.Request) error {
	var req groupRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	g, err := s.auth.AddGroup(r.Context(), req.Name, req.Description, req.Allow, req.IMeanIt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) showGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.auth.Group(r.Context(), r.PathValue("group"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// groupChange is a PATCH: rules to allow and to deny, and a description
// when given; all of it or nothing is applied.
type groupChange struct {
	Allow       []string `json:"allow"`
	Deny        []string `json:"deny"`
	Description *string  `json:"description"`
	IMeanIt     bool     `json:"i_mean_it"`
}

func (s *Server) editGroup(w http.ResponseWriter, r *http.Request) error {
	var req groupChange
	if err := decode(w, r, &req); err != nil {
		return err
	}
	g, err := s.auth.EditGroup(r.Context(), authority.GroupChange{Name: r.PathValue("group"), Allow: req.Allow, Deny: req.Deny,
		Description: req.Description, IMeanIt: req.IMeanIt})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) removeGroup(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.RemoveGroup(r.Context(), r.PathValue("group")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"group": r.PathValue("group"), "removed": true})
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	g, err := s.auth.AddMembers(r.Context(), r.PathValue("group"), r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	g, err := s.auth.RemoveMembers(r.Context(), r.PathValue("group"), r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) accessCheck(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v, err := s.auth.AccessCheck(r.Context(), q.Get("user"), q.Get("target"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
