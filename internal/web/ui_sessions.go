package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// The admin pages' view of the agents: who is connected now, each
// server's agent on the servers page, and the user page's Disconnect.

// sessionRow is a session as the pages show it.
type sessionRow struct{ authority.SessionView }

// In and Out are the bytes the session moved, for people.
func (r sessionRow) In() string  { return humanBytes(r.BytesIn) }
func (r sessionRow) Out() string { return humanBytes(r.BytesOut) }

// humanBytes prints a byte count as 1.5 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sessionRows(list []authority.SessionView) []sessionRow {
	out := make([]sessionRow, len(list))
	for i, s := range list {
		out[i] = sessionRow{s}
	}
	return out
}

// agentRow is a server's agent as the servers page shows it.
type agentRow struct{ authority.AgentView }

// LastSeenAgo says how long ago the agent reported, for people.
func (r agentRow) LastSeenAgo() string {
	if !r.Seen() {
		return "never"
	}
	d := time.Since(r.LastSeen).Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}

// staleReport is how old an agent's last report may be before the
// "Connected now" page says that it may be out of date (agents report
// every few seconds).
const staleReport = 2 * time.Minute

func (s *Server) uiSessions(w http.ResponseWriter, r *http.Request) {
	server := r.URL.Query().Get("server")
	list, err := s.auth.Sessions(r.Context(), server)
	if err != nil {
		s.uiFail(w, r, "Listing sessions failed", err, "/ui/sessions")
		return
	}
	servers, err := s.auth.AgentStatus(r.Context())
	if err != nil {
		s.uiFail(w, r, "Listing sessions failed", err, "/ui/users")
		return
	}
	var silent, stale []string
	for _, a := range servers {
		switch {
		case !a.Seen():
			silent = append(silent, a.Server)
		case time.Since(a.LastSeen) > staleReport:
			stale = append(stale, a.Server)
		}
	}
	s.render(w, r, http.StatusOK, "sessions", map[string]any{"Title": "Connected now", "Admin": adminOf(r.Context()),
		"Sessions": sessionRows(list), "Server": server, "Servers": servers, "Silent": silent, "Stale": stale})
}

// userSessions lists user's sessions for the user page (none on error:
// the page still shows the rest).
func (s *Server) userSessions(ctx context.Context, user string) []sessionRow {
	list, err := s.auth.Sessions(ctx, "")
	if err != nil {
		s.log.ErrorContext(ctx, "listing sessions", "err", err)
		return nil
	}
	var mine []authority.SessionView
	for _, v := range list {
		if v.User == user {
			mine = append(mine, v)
		}
	}
	return sessionRows(mine)
}

// agentRows lists each server's agent for the servers page (none on
// error: the page still lists the servers).
func (s *Server) agentRows(ctx context.Context) []agentRow {
	list, err := s.auth.AgentStatus(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "listing agents", "err", err)
		return nil
	}
	out := make([]agentRow, len(list))
	for i, a := range list {
		out[i] = agentRow{a}
	}
	return out
}

func (s *Server) uiDisconnect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.PathValue("user")
	res, err := s.auth.Disconnect(r.Context(), name, r.FormValue("reason"))
	if err != nil {
		s.uiFail(w, r, "Disconnecting failed", err, "/ui/users/"+name)
		return
	}
	msg := fmt.Sprintf("Every server's agent was asked to end %s's sessions (%d reported connected). %s keeps access; revoke to keep them out.",
		name, res.Sessions, name)
	http.Redirect(w, r, "/ui/users/"+name+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}
