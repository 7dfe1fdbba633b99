package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// apiRoutes registers /api/v1. The route table is also what the OpenAPI
// test compares the document with.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.authed(rt.handler))
	}
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
}

// apiHandler serves one API route and returns its error, which authed
// writes in the API's one error shape: no handler writes errors itself.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

type route struct {
	method, path string
	handler      apiHandler
}

func (s *Server) routes() []route {
	return append([]route{
		{"GET", "/api/v1/users", s.listUsers},
		{"POST", "/api/v1/users", s.createUser},
		{"GET", "/api/v1/users/{user}", s.showUser},
		{"POST", "/api/v1/users/{user}/revoke", s.revokeUser},
		{"POST", "/api/v1/users/{user}/renew", s.renewUser},
		{"POST", "/api/v1/users/{user}/send", s.sendUser},
		{"POST", "/api/v1/users/{user}/links", s.createLink},
		{"POST", "/api/v1/users/{user}/disconnect", s.disconnectUser},
		{"DELETE", "/api/v1/users/{user}", s.removeUser},
		{"GET", "/api/v1/servers", s.listServers},
		{"POST", "/api/v1/servers", s.addServer},
		{"PATCH", "/api/v1/servers/{server}", s.setServer},
		{"DELETE", "/api/v1/servers/{server}", s.removeServer},
		{"GET", "/api/v1/servers/{server}/files", s.serverFiles},
		{"GET", "/api/v1/sessions", s.listSessions},
		{"GET", "/api/v1/agents", s.listAgents},
		{"GET", "/api/v1/crl", s.crlInfo},
		{"GET", "/api/v1/audit", s.listAudit},
		{"GET", "/api/v1/expiring", s.listExpiring}, // api_expiry.go
	}, s.groupRoutes()...)
}

// handle serves h and writes the error it returns.
func (s *Server) handle(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// authed checks the bearer token and tags the request's actor.
func (s *Server) authed(next apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		name, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(tok))
		if !ok || err != nil {
			if err == nil {
				err = authority.ErrUnauthorized
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="vpnkeys"`)
			s.writeError(w, r, err)
			return
		}
		ctx := authority.WithActor(r.Context(), authority.Actor{Name: "token:" + name, Source: remoteIP(r)})
		w.Header().Set("Cache-Control", "no-store")
		s.handle(next)(w, r.WithContext(ctx))
	})
}

// decode reads a JSON body strictly: one object, known fields, 1 MiB at most.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%w: Content-Type must be application/json", errBadRequest)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: reading body: %v", errBadRequest, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", errBadRequest)
	}
	return nil
}

func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("%w: %s must be a number from 0 to %d", errBadRequest, name, max)
	}
	return n, nil
}

type userList struct {
	Users []authority.UserView `json:"users"`
	Total int                  `json:"total"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset", 0, 1<<30)
	if err != nil {
		return err
	}
	users, total, err := s.auth.List(r.Context(), authority.ListFilter{Search: q.Get("search"), Status: q.Get("status"),
		OrderBy: q.Get("order"), Desc: q.Get("desc") == "true", Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	if users == nil {
		users = []authority.UserView{}
	}
	writeJSON(w, http.StatusOK, userList{users, total})
	return nil
}

type createUserRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	OS       string `json:"os"`
	Lang     string `json:"lang"`
	NewKey   bool   `json:"new_key"`
	// Groups the user joins (each must exist); memberships they have stay.
	Groups []string `json:"groups"`
	// Reinstate gives a revoked user access again; refused without it.
	Reinstate bool `json:"reinstate"`
	// Days is the lifetime of a certificate issued now; absent: the default.
	Days *int `json:"days"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	days, err := requestDays(req.Days)
	if err != nil {
		return err
	}
	res, err := s.auth.AddUsers(r.Context(), []authority.UserRequest{{Name: req.Name, Email: req.Email, FullName: req.FullName, OS: req.OS, Lang: req.Lang, Groups: req.Groups}},
		authority.AddOptions{NewKey: req.NewKey, Reinstate: req.Reinstate, Days: days})
	if err != nil {
		return err
	}
	d, err := s.auth.Show(r.Context(), req.Name)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if res[0].Issued {
		code = http.StatusCreated
	}
	writeJSON(w, code, d)
	return nil
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request) error {
	d, err := s.auth.Show(r.Context(), r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) revokeUser(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	reason, err := req.Reason, authority.ValidReason(req.Reason)
	if err != nil {
		return err
	}
	res, err := s.auth.Revoke(r.Context(), r.PathValue("user"), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": res.User, "serial": res.Serial, "serials": res.Serials,
		"already_revoked": res.AlreadyRevoked, "links_ended": res.LinksEnded, "crl_number": res.CRL.Number})
	return nil
}

func (s *Server) renewUser(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reinstate bool `json:"reinstate"`
		Days      *int `json:"days"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	days, err := requestDays(req.Days)
	if err != nil {
		return err
	}
	if _, err := s.auth.Renew(r.Context(), r.PathValue("user"), authority.AddOptions{Reinstate: req.Reinstate, Days: days}); err != nil {
		return err
	}
	s.showUser(w, r)
	return nil
}

type sendRequest struct {
	To       string  `json:"to"`
	Attach   bool    `json:"attach"`
	TTLHours float64 `json:"ttl_hours"`
}

type sendResponse struct {
	To         string    `json:"to"`
	Link       string    `json:"link,omitempty"`
	Expires    time.Time `json:"link_expires,omitzero"`
	Passphrase string    `json:"key_passphrase,omitempty"`
	MailError  string    `json:"mail_error,omitempty"`
}

func (s *Server) sendUser(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.To != "" && req.To != "user" && req.To != "admin" {
		return fmt.Errorf("%w: to must be \"user\" or \"admin\"", errBadRequest)
	}
	ttl, err := authority.LinkTTLHours(req.TTLHours)
	if err != nil {
		return err
	}
	res, err := s.auth.Send(r.Context(), s.mailer, authority.SendRequest{User: r.PathValue("user"), ToAdmin: req.To == "admin",
		Attach: req.Attach, LinkTTL: ttl})
	out := sendResponse{To: res.To, Link: res.Link.URL, Expires: res.Link.ExpiresAt, Passphrase: res.Passphrase}
	if err != nil {
		if code, _, _ := status(err); code == http.StatusBadGateway && out.Link != "" {
			// The mail failed but the link exists: hand it over.
			out.MailError = err.Error()
			writeJSON(w, http.StatusAccepted, out)
			return nil
		}
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		TTLHours float64 `json:"ttl_hours"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ttl, err := authority.LinkTTLHours(req.TTLHours)
	if err != nil {
		return err
	}
	l, err := s.auth.CreateLink(r.Context(), r.PathValue("user"), ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": l.User, "link": l.URL, "expires": l.ExpiresAt})
	return nil
}

func (s *Server) listServers(w http.ResponseWriter, r *http.Request) error {
	list, err := s.auth.Servers(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []authority.ServerView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": list})
	return nil
}

func (s *Server) serverFiles(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("server")
	d, err := s.auth.ServerArchive(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", d.Name))
	w.Write(d.Data)
	return nil
}

func (s *Server) crlInfo(w http.ResponseWriter, r *http.Request) error {
	c, err := s.auth.CRL(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"number": c.Number, "this_update": c.ThisUpdate, "next_update": c.NextUpdate, "revoked": c.Revoked})
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(r, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	evs, err := s.auth.Audit(r.Context(), authority.AuditFilter{Target: q.Get("target"), Action: q.Get("action"), Actor: q.Get("actor"), Limit: limit, Before: int64(before)})
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []authority.AuditView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
	return nil
}
