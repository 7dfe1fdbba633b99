package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// The servers page's actions, as the CLI's server add and server remove,
// and taking a user away for good from the revoke page.

func (s *Server) uiAddServer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	req := authority.ServerRequest{Name: r.FormValue("name"), Remote: r.FormValue("remote"), Subnet: r.FormValue("subnet"),
		Push:    ovpn.Push{Routes: strings.Fields(r.FormValue("push_routes")), DNS: strings.Fields(r.FormValue("dns")), Domain: r.FormValue("domain")},
		TLSMode: r.FormValue("tls_mode")}
	v, err := s.auth.AddServer(r.Context(), req)
	if err != nil {
		s.uiFail(w, r, "Server not added", err, "/ui/servers")
		return
	}
	msg := "Server " + v.Name + " registered at " + v.RemoteText + ". Bundles issued from now on list it; write its files with Download."
	http.Redirect(w, r, "/ui/servers?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Server) uiRemoveServer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.PathValue("server")
	if r.FormValue("confirm") != name {
		s.uiFail(w, r, "Server not removed", errNotConfirmed, "/ui/servers")
		return
	}
	if _, err := s.auth.RemoveServer(r.Context(), name); err != nil {
		s.uiFail(w, r, "Server not removed", err, "/ui/servers")
		return
	}
	msg := "Server " + name + " removed and its certificate revoked; its files on the host are left alone."
	http.Redirect(w, r, "/ui/servers?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Server) uiRemoveUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.PathValue("user")
	if r.FormValue("confirm") != name {
		s.uiFail(w, r, "Not removed", errNotConfirmed, "/ui/users/"+name+"/revoke")
		return
	}
	if _, err := s.auth.RemoveUser(r.Context(), name, "", r.FormValue("reason")); err != nil {
		s.uiFail(w, r, "Removing failed", err, "/ui/users/"+name)
		return
	}
	msg := name + " removed: revoked everywhere, bundle and open links deleted; the history stays."
	http.Redirect(w, r, "/ui/users?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}
