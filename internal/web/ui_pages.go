package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (s *Server) uiImportPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "import", map[string]any{"Title": "Import a roster", "Admin": adminOf(r.Context())})
}

// uiImport onboards an uploaded roster and lists every refused row.
func (s *Server) uiImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<20)
	data := map[string]any{"Title": "Import a roster", "Admin": adminOf(r.Context())}
	f, _, err := r.FormFile("roster")
	if err != nil {
		data["Error"] = "Choose a CSV file to upload."
		s.render(w, r, http.StatusBadRequest, "import", data)
		return
	}
	defer f.Close()
	ro, err := authority.ReadRoster(f)
	if err != nil {
		data["Error"] = err.Error()
		s.render(w, r, http.StatusBadRequest, "import", data)
		return
	}
	rep, err := s.auth.ImportRoster(r.Context(), ro, authority.AddOptions{
		Reinstate: r.FormValue("reinstate") != "", AllOrNothing: r.FormValue("all_or_nothing") != ""})
	data["Result"] = rep
	if err != nil {
		code, _, public := status(err)
		data["Error"] = err.Error()
		if !public {
			s.log.Error("importing roster", "err", err)
			data["Error"] = "Onboarding stopped; see the server log."
		}
		s.render(w, r, code, "import", data)
		return
	}
	s.render(w, r, http.StatusOK, "import", data)
}

func (s *Server) uiServers(w http.ResponseWriter, r *http.Request) {
	list, err := s.auth.Servers(r.Context())
	if err != nil {
		s.uiFail(w, r, "Listing servers failed", err, "/ui/users")
		return
	}
	s.render(w, r, http.StatusOK, "servers", map[string]any{"Title": "Servers", "Admin": adminOf(r.Context()), "Servers": list,
		"Flash": r.URL.Query().Get("flash"), "Agents": s.agentRows(r.Context())})
}

func (s *Server) uiCRL(w http.ResponseWriter, r *http.Request) {
	c, err := s.auth.CRL(r.Context())
	if err != nil {
		s.uiFail(w, r, "No CRL", err, "/ui/users")
		return
	}
	s.render(w, r, http.StatusOK, "crl", map[string]any{"Title": "CRL", "Admin": adminOf(r.Context()), "CRL": c})
}

func (s *Server) uiAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	f := authority.AuditFilter{Target: q.Get("target"), Action: q.Get("action"), Actor: q.Get("actor"), Limit: 100, Before: before}
	evs, err := s.auth.Audit(r.Context(), f)
	if err != nil {
		s.uiFail(w, r, "Reading the audit log failed", err, "/ui/users")
		return
	}
	older := ""
	if len(evs) == f.Limit {
		v := url.Values{"target": {f.Target}, "action": {f.Action}, "actor": {f.Actor}, "before": {fmt.Sprint(evs[len(evs)-1].ID)}}
		older = "/ui/audit?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", map[string]any{"Title": "Audit", "Admin": adminOf(r.Context()), "Events": evs, "Filter": f, "OlderURL": older})
}
