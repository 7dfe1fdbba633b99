package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// apiError is the one shape of every API error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// status maps a domain error to an HTTP status and a stable code. Errors
// not in the table are internal: their text is logged, never sent.
func status(err error) (int, string, bool) {
	table := []struct {
		target error
		status int
		code   string
	}{
		{authority.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
		{account.ErrInvalid, http.StatusBadRequest, "invalid"},
		{pki.ErrInvalid, http.StatusBadRequest, "invalid"},
		{ovpn.ErrRemote, http.StatusBadRequest, "invalid"},
		{errBadRequest, http.StatusBadRequest, "bad_request"},
		{authority.ErrUserNotFound, http.StatusNotFound, "not_found"},
		{authority.ErrServerNotFound, http.StatusNotFound, "not_found"},
		{authority.ErrNotActive, http.StatusConflict, "not_active"},
		{authority.ErrServerExists, http.StatusConflict, "exists"},
		{authority.ErrTokenExists, http.StatusConflict, "exists"},
		{authority.ErrNoServers, http.StatusConflict, "no_servers"},
		{authority.ErrNoEmail, http.StatusConflict, "no_email"},
		{authority.ErrNoAdmin, http.StatusConflict, "no_admin"},
		{authority.ErrNoMail, http.StatusConflict, "mail_not_configured"},
		{authority.ErrMailFailed, http.StatusBadGateway, "mail_failed"},
		{store.ErrConflict, http.StatusConflict, "conflict"},
		{authority.ErrLocked, http.StatusServiceUnavailable, "locked"},
		{authority.ErrBusy, http.StatusServiceUnavailable, "busy"},
		{authority.ErrNotInitialized, http.StatusServiceUnavailable, "not_initialized"},
	}
	for _, e := range table {
		if errors.Is(err, e.target) {
			return e.status, e.code, true
		}
	}
	return http.StatusInternalServerError, "internal", false
}

var errBadRequest = errors.New("bad request")

// publicMessage is what a client may read of err: a lost race carries the
// database's words, so it gets a message of its own.
func publicMessage(err error) string {
	if errors.Is(err, store.ErrConflict) {
		return "another change to the same record won; try again"
	}
	return err.Error()
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name, public := status(err)
	var body apiError
	body.Error.Code = name
	body.Error.Message = err.Error()
	body.Error.Message = publicMessage(err)
	if !public {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("path", redactPath(r.URL.Path)), slog.Any("err", err))
		body.Error.Message = "internal error; see the server log"
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
