package web

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// apiError is the one shape of every API error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusOf is the HTTP status of each kind of error: the one place where
// the service's errors meet HTTP. The JSON code is the error's own.
var statusOf = map[fault.Kind]int{
	fault.Invalid:      http.StatusBadRequest,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Unavailable:  http.StatusServiceUnavailable,
	fault.Upstream:     http.StatusBadGateway,
}

// status maps an error to an HTTP status and a stable code, and tells
// whether its message may be shown. Internal errors are logged, never
// sent.
func status(err error) (int, string, bool) {
	code, ok := statusOf[fault.KindOf(err)]
	if !ok {
		return http.StatusInternalServerError, "internal", false
	}
	return code, fault.CodeOf(err), true
}

var errBadRequest = fault.New(fault.Invalid, "bad_request", "bad request")

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name, public := status(err)
	var body apiError
	body.Error.Code = name
	body.Error.Message = fault.Message(err)
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

// writeCompactJSON is writeJSON without the indentation, for what only
// programs read and what is large and sent often: an agent's state goes to
// every agent on every change.
func writeCompactJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
