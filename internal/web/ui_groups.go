package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// The groups pages (issue 13): a list with an add form, and a page per
// group with its rules and members, each changed by a small form; the
// user page adds a user to a group. The same service calls as the CLI's
// group commands; cross-origin protection guards every POST (uiRoutes).

func (s *Server) groupUIRoutes() []struct {
	pattern string
	h       http.HandlerFunc
} {
	return []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /ui/groups", s.uiGroups},
		{"POST /ui/groups", s.uiAddGroup},
		{"GET /ui/groups/{group}", s.uiGroup},
		{"POST /ui/groups/{group}/allow", s.uiAllow},
		{"POST /ui/groups/{group}/deny", s.uiDeny},
		{"POST /ui/groups/{group}/members", s.uiAddMember},
		{"POST /ui/groups/{group}/members/{user}/remove", s.uiRemoveMember},
		{"POST /ui/groups/{group}/remove", s.uiRemoveGroup},
		{"POST /ui/users/{user}/groups", s.uiJoinGroup},
	}
}

func (s *Server) uiGroups(w http.ResponseWriter, r *http.Request) {
	list, err := s.auth.Groups(r.Context())
	if err != nil {
		s.uiFail(w, r, "Listing groups failed", err, "/ui/users")
		return
	}
	s.render(w, r, http.StatusOK, "groups", map[string]any{"Title": "Groups", "Admin": adminOf(r.Context()), "Groups": list,
		"Flash": r.URL.Query().Get("flash")})
}

func (s *Server) uiGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.auth.Group(r.Context(), r.PathValue("group"))
	if err != nil {
		s.uiFail(w, r, "No such group", err, "/ui/groups")
		return
	}
	evs, _ := s.auth.Audit(r.Context(), authority.AuditFilter{Target: g.Name, Limit: 50})
	s.render(w, r, http.StatusOK, "group", map[string]any{"Title": g.Name, "Admin": adminOf(r.Context()), "Group": g, "Events": evs,
		"Flash": r.URL.Query().Get("flash")})
}

// rulesField splits a form's rules: one per line or separated by spaces.
func rulesField(r *http.Request, name string) []string { return strings.Fields(r.FormValue(name)) }

func redirectFlash(w http.ResponseWriter, r *http.Request, to, msg string) {
	http.Redirect(w, r, to+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Server) uiAddGroup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 65536)
	g, err := s.auth.AddGroup(r.Context(), r.FormValue("name"), r.FormValue("description"), rulesField(r, "allow"), r.FormValue("i_mean_it") != "")
	if err != nil {
		s.uiFail(w, r, "Group not added", err, "/ui/groups")
		return
	}
	redirectFlash(w, r, "/ui/groups/"+g.Name, "Group "+g.Name+" added. Put users in it below.")
}

func (s *Server) uiAllow(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 65536)
	name := r.PathValue("group")
	g, err := s.auth.AllowRules(r.Context(), name, rulesField(r, "allow"), r.FormValue("i_mean_it") != "")
	if err != nil {
		s.uiFail(w, r, "Rules not added", err, "/ui/groups/"+name)
		return
	}
	redirectFlash(w, r, "/ui/groups/"+g.Name, "Rules added; every server follows within a second.")
}

func (s *Server) uiDeny(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	name := r.PathValue("group")
	g, err := s.auth.DenyRules(r.Context(), name, []string{r.FormValue("rule")})
	if err != nil {
		s.uiFail(w, r, "Rule not taken away", err, "/ui/groups/"+name)
		return
	}
	redirectFlash(w, r, "/ui/groups/"+g.Name, "Rule "+r.FormValue("rule")+" taken away; connections it allowed are cut.")
}

func (s *Server) uiAddMember(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 65536)
	name := r.PathValue("group")
	users := strings.Fields(strings.ReplaceAll(r.FormValue("users"), ",", " "))
	g, err := s.auth.AddMembers(r.Context(), name, users...)
	if err != nil {
		s.uiFail(w, r, "Members not added", err, "/ui/groups/"+name)
		return
	}
	redirectFlash(w, r, "/ui/groups/"+g.Name, strings.Join(users, ", ")+" added to "+g.Name+".")
}

func (s *Server) uiRemoveMember(w http.ResponseWriter, r *http.Request) {
	name, user := r.PathValue("group"), r.PathValue("user")
	back := "/ui/groups/" + name
	if r.FormValue("from") == "user" {
		back = "/ui/users/" + user
	}
	if _, err := s.auth.RemoveMembers(r.Context(), name, user); err != nil {
		s.uiFail(w, r, "Member not taken out", err, back)
		return
	}
	redirectFlash(w, r, back, user+" taken out of "+name+".")
}

func (s *Server) uiRemoveGroup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.PathValue("group")
	if r.FormValue("confirm") != name {
		s.uiFail(w, r, "Group not removed", errNotConfirmed, "/ui/groups/"+name)
		return
	}
	if err := s.auth.RemoveGroup(r.Context(), name); err != nil {
		s.uiFail(w, r, "Group not removed", err, "/ui/groups")
		return
	}
	redirectFlash(w, r, "/ui/groups", "Group "+name+" removed; its members lost what only it allowed.")
}

func (s *Server) uiJoinGroup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	user, group := r.PathValue("user"), r.FormValue("group")
	if _, err := s.auth.AddMembers(r.Context(), group, user); err != nil {
		s.uiFail(w, r, "Not added to the group", err, "/ui/users/"+user)
		return
	}
	redirectFlash(w, r, "/ui/users/"+user, user+" added to group "+group+".")
}

// joinable lists the groups a user is not in, for the user page's form.
func (s *Server) joinable(ctx context.Context, in []string) []string {
	list, err := s.auth.Groups(ctx)
	if err != nil {
		s.log.Warn("listing groups", "err", err)
		return nil
	}
	var out []string
	for _, g := range list {
		if !slices.Contains(in, g.Name) {
			out = append(out, g.Name)
		}
	}
	return out
}
