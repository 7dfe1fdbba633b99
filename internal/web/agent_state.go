package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// writeMargin is the time a long-poll's answer has to be written once its
// wait ran out.
const writeMargin = 30 * time.Second

// maxReport bounds an agent's report body: a server with thousands of
// sessions stays far below it.
const maxReport = 8 << 20

// agentState long-polls the desired state of the server in the path
// (agentwire.PathServers NAME/state?since=N&wait=SECONDS): the state at
// once when its version differs from since (newer, or older after the
// database was restored from a backup), else after a change, or 304 Not
// Modified when wait ran out with nothing newer. A reply is not a promise
// that anything of this server changed: the agent compares Hash.
func (s *Server) agentState(w http.ResponseWriter, r *http.Request) error {
	since, wait, err := pollParams(r)
	if err != nil {
		return err
	}
	server := r.PathValue("server")
	w.Header().Set("Cache-Control", "no-store")
	st, err := s.auth.AgentState(r.Context(), server)
	if err != nil {
		return err
	}
	if st.Version == since && wait > 0 {
		// The listener's WriteTimeout must not cut the long-poll short.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + writeMargin))
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		// Wait for this process's version to pass the one seen last: a
		// version that stays behind since (a database restored from a
		// backup) then never makes the agent ask again in a tight loop.
		for seen := since; st.Version == since; {
			if seen, err = s.auth.WaitChange(ctx, seen); err != nil {
				return err
			}
			if ctx.Err() != nil {
				break
			}
			if st, err = s.auth.AgentState(r.Context(), server); err != nil {
				return err
			}
		}
		if r.Context().Err() != nil {
			return nil // the agent left
		}
	}
	if st.Version == since {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeCompactJSON(w, http.StatusOK, st)
	return nil
}

// pollParams reads since (a version, 0 when absent) and wait (seconds, at
// most agentwire.MaxWait; 0 when absent: answer at once).
func pollParams(r *http.Request) (since int64, wait time.Duration, err error) {
	q := r.URL.Query()
	if v := q.Get(agentwire.QuerySince); v != "" {
		since, err = strconv.ParseInt(v, 10, 64)
		if err != nil || since < 0 {
			return 0, 0, fmt.Errorf("%w: %s must be a version number (0 or more)", errBadRequest, agentwire.QuerySince)
		}
	}
	if v := q.Get(agentwire.QueryWait); v != "" {
		max := int64(agentwire.MaxWait / time.Second)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > max {
			return 0, 0, fmt.Errorf("%w: %s must be seconds from 0 to %d", errBadRequest, agentwire.QueryWait, max)
		}
		wait = time.Duration(n) * time.Second
	}
	return since, wait, nil
}

// agentReport records an agent's report.
func (s *Server) agentReport(w http.ResponseWriter, r *http.Request) error {
	var rep agentwire.Report
	r.Body = http.MaxBytesReader(w, r.Body, maxReport)
	if err := decodeLimited(r, &rep); err != nil {
		return err
	}
	if err := s.auth.ReportAgent(r.Context(), r.PathValue("server"), rep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeLimited reads one JSON object from a body already bounded with
// http.MaxBytesReader. Unknown fields pass: a newer agent may report more
// than this control plane knows.
func decodeLimited(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%w: Content-Type must be application/json", errBadRequest)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("%w: body over %d bytes", errBadRequest, tooBig.Limit)
		}
		return fmt.Errorf("%w: invalid JSON: %v", errBadRequest, err)
	}
	return nil
}
