package authority

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// What the agents report and what admins see and do with it: who is
// connected where (Sessions), each server's agent (AgentStatus), and
// ending a user's sessions everywhere without revoking (Disconnect).
// Reports are stored one row per server, replaced by each report; the
// sessions are the agent's last word, stamped with when it was said.

// MaxReportSessions bounds the sessions one report may carry.
const MaxReportSessions = 100000

// CRLWarnWithin is how close to its nextUpdate a CRL an agent holds is
// flagged (AgentView.CRLExpiring): OpenVPN refuses everyone once it lapses.
const CRLWarnWithin = 3 * 24 * time.Hour

// ActionDisconnect is the audit action of Disconnect.
const ActionDisconnect = "user.disconnect"

// maxReasonLen bounds a disconnect reason.
const maxReasonLen = 200

// SessionView is one live session, as the agent of Server last reported.
type SessionView struct {
	Server string `json:"server"`
	agentwire.Session
	Reported time.Time `json:"reported"`
}

// AgentView is a server's agent as `server status` shows it.
type AgentView struct {
	Server   string `json:"server"`
	Enrolled bool   `json:"enrolled"`
	// AgentCertNotAfter is when the agent's certificate ends (zero: not
	// enrolled); the agent renews it well before (agent.RenewDue).
	AgentCertNotAfter time.Time `json:"agent_cert_not_after,omitzero"`
	LastSeen          time.Time `json:"last_seen,omitzero"` // zero: it never reported
	Version           int64     `json:"version"`
	Lag               int64     `json:"lag"` // versions behind the newest
	AppliedAt         time.Time `json:"applied_at,omitzero"`
	CRLNumber         int64     `json:"crl_number"`
	CRLNextUpdate     time.Time `json:"crl_next_update,omitzero"`
	CRLExpiring       bool      `json:"crl_expiring"` // within 3 days of nextUpdate
	Error             string    `json:"error,omitempty"`
	Management        bool      `json:"management"`
	Sessions          int       `json:"sessions"`
	Kills             int64     `json:"kills"`
	// RestartPending: since when the agent holds back an OpenVPN restart
	// until its restart window; zero when none.
	RestartPending time.Time `json:"restart_pending,omitzero"`
	// SelfTest is the agent's last self-test (nil: none reported).
	SelfTest *SelfTestView `json:"selftest,omitempty"`
}

// Seen tells whether the agent has reported at all.
func (v AgentView) Seen() bool { return !v.LastSeen.IsZero() }

// DisconnectResult tells what Disconnect asked for.
type DisconnectResult struct {
	User     string `json:"user"`
	Version  int64  `json:"version"`
	Sessions int    `json:"sessions"` // sessions the agents last reported for the user
}

// ReportAgent records what server's agent reported, replacing its previous
// report. It is not audited (agents report every few seconds).
func (a *Authority) ReportAgent(ctx context.Context, server string, r agentwire.Report) error {
	if err := validReport(&r); err != nil {
		return err
	}
	if err := validSelfTest(r.SelfTest); err != nil {
		return err
	}
	r.Sessions = slices.DeleteFunc(r.Sessions, probeSession) // the self-test's own (selftest_results.go)
	if r.Sessions == nil {
		r.Sessions = []agentwire.Session{}
	}
	if r.Hashes == nil {
		r.Hashes = map[string]string{}
	}
	sessions, err := json.Marshal(r.Sessions)
	if err != nil {
		return fmt.Errorf("encoding sessions: %w", err)
	}
	hashes, err := json.Marshal(r.Hashes)
	if err != nil {
		return fmt.Errorf("encoding hashes: %w", err)
	}
	row := store.AgentStatus{Server: server, LastSeen: a.now().Unix(), Version: r.Version, AppliedAt: unixOrZero(r.AppliedAt),
		CRLNumber: r.CRLNumber, CRLNextUpdate: unixOrZero(r.CRLNextUpdate), Hashes: string(hashes), Error: r.Error,
		Management: r.Management, Kills: r.Kills, AgentVersion: r.AgentVersion, Sessions: string(sessions)}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := q.GetServer(ctx, server); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrServerNotFound, server)
		} else if err != nil {
			return err
		}
		// The agent's certificate is recorded as kind server, subject
		// "agent:NAME" (no server name holds a ':').
		row.Serial = ""
		if c, err := q.ActiveCert(ctx, store.KindServer, "agent:"+server); err == nil {
			row.Serial = c.Serial
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := q.UpsertAgentStatus(ctx, row); err != nil {
			return err
		}
		return q.SetRestartPending(ctx, server, unixOrZero(r.RestartPending)) // restart window (issue 14)
	})
	if err != nil {
		return err
	}
	if err := a.recordSelfTest(ctx, server, r.SelfTest); err != nil {
		return err
	}
	a.log.DebugContext(ctx, "agent report", "server", server, "version", r.Version, "sessions", len(r.Sessions),
		"management", r.Management, "error", r.Error)
	return nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// validReport refuses a report whose numbers or identifying strings are
// not sane, and tidies its free-text error to one bounded line.
func validReport(r *agentwire.Report) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: report: "+format, append([]any{account.ErrInvalid}, args...)...)
	}
	switch {
	case r.Version < 0 || r.CRLNumber < 0 || r.Kills < 0:
		return bad("version, CRL number and kills must not be negative")
	case len(r.Sessions) > MaxReportSessions:
		return bad("%d sessions, at most %d allowed", len(r.Sessions), MaxReportSessions)
	case len(r.Hashes) > 64:
		return bad("%d file hashes, at most 64 allowed", len(r.Hashes))
	case !sane(r.AgentVersion, 100):
		return bad("agent version is not one short line of text")
	}
	for name, h := range r.Hashes {
		if !sane(name, 255) || !isHex(h, 128) {
			return bad("file hash of %.40q is not a file name and a hex digest", name)
		}
	}
	for i, s := range r.Sessions {
		switch {
		case !sane(s.User, 256) || s.User == "":
			return bad("session %d: user is not a name", i)
		case s.Serial != "" && !isHex(strings.ReplaceAll(s.Serial, ":", ""), 128):
			return bad("session %d: serial %.40q is not hexadecimal", i, s.Serial)
		case !sane(s.RealAddress, 128) || !sane(s.VPNAddress, 128):
			return bad("session %d: an address is not one short line of text", i)
		case s.BytesIn < 0 || s.BytesOut < 0:
			return bad("session %d: byte counts must not be negative", i)
		}
	}
	r.Error = oneLineText(r.Error, 1000)
	return nil
}

// sane tells whether s is valid UTF-8 of at most max bytes without
// control characters.
func sane(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func isHex(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// oneLineText folds control characters into spaces and cuts s to at most
// max bytes on a rune boundary.
func oneLineText(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	for len(s) > max {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return strings.TrimSpace(s)
}

// reports returns the registered servers and the last report of each
// one's agent, by server name. A removed server's report is left out, and
// so is one older than the server (made before a server of the same name
// was removed and added again).
func (a *Authority) reports(ctx context.Context) ([]store.Server, map[string]store.AgentStatus, error) {
	q := a.db.Q()
	servers, err := q.ListServers(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := q.AgentStatuses(ctx)
	if err != nil {
		return nil, nil, err
	}
	created := make(map[string]int64, len(servers))
	for _, s := range servers {
		created[s.Name] = s.CreatedAt.Unix()
	}
	byName := make(map[string]store.AgentStatus, len(rows))
	for _, r := range rows {
		if at, ok := created[r.Server]; ok && r.LastSeen >= at {
			byName[r.Server] = r
		}
	}
	return servers, byName, nil
}

// Sessions lists live sessions, of one server when server is not "", as
// each server's agent last reported them, by server then user.
func (a *Authority) Sessions(ctx context.Context, server string) ([]SessionView, error) {
	servers, rows, err := a.reports(ctx)
	if err != nil {
		return nil, err
	}
	if server != "" && !slices.ContainsFunc(servers, func(s store.Server) bool { return s.Name == server }) {
		return nil, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	}
	out := []SessionView{}
	for _, s := range servers {
		row, ok := rows[s.Name]
		if !ok || (server != "" && s.Name != server) {
			continue
		}
		var list []agentwire.Session
		if err := json.Unmarshal([]byte(row.Sessions), &list); err != nil {
			return nil, fmt.Errorf("reading the sessions of %s: %w", s.Name, err)
		}
		for _, ss := range list {
			out = append(out, SessionView{Server: s.Name, Session: ss, Reported: timeOrZero(row.LastSeen)})
		}
	}
	slices.SortStableFunc(out, func(x, y SessionView) int {
		return cmp.Or(cmp.Compare(x.Server, y.Server), cmp.Compare(x.User, y.User), x.Since.Compare(y.Since),
			cmp.Compare(x.RealAddress, y.RealAddress))
	})
	return out, nil
}

// AgentStatus lists every registered server, in profile order, with its
// agent's last report: Lag is how many change versions it is behind the
// newest, CRLExpiring that the CRL it holds lapses within CRLWarnWithin.
func (a *Authority) AgentStatus(ctx context.Context) ([]AgentView, error) {
	servers, rows, err := a.reports(ctx)
	if err != nil {
		return nil, err
	}
	q := a.db.Q()
	newest, err := q.Version(ctx)
	if err != nil {
		return nil, err
	}
	pendingRestarts, err := q.RestartsPending(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	selfTests, err := a.selfTestViews(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AgentView, 0, len(servers))
	for _, s := range servers {
		v := AgentView{Server: s.Name, SelfTest: selfTests[s.Name]}
		if c, err := q.ActiveCert(ctx, store.KindServer, agentPrefix+s.Name); err == nil {
			v.Enrolled, v.AgentCertNotAfter = true, c.NotAfter.UTC()
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if row, ok := rows[s.Name]; ok {
			var sessions []json.RawMessage
			if err := json.Unmarshal([]byte(row.Sessions), &sessions); err != nil {
				return nil, fmt.Errorf("reading the sessions of %s: %w", s.Name, err)
			}
			v.LastSeen, v.Version, v.Lag = timeOrZero(row.LastSeen), row.Version, max(newest-row.Version, 0)
			v.AppliedAt, v.CRLNumber, v.CRLNextUpdate = timeOrZero(row.AppliedAt), row.CRLNumber, timeOrZero(row.CRLNextUpdate)
			v.CRLExpiring = !v.CRLNextUpdate.IsZero() && !now.Add(CRLWarnWithin).Before(v.CRLNextUpdate)
			v.Error, v.Management, v.Sessions, v.Kills = row.Error, row.Management, len(sessions), row.Kills
			v.RestartPending = timeOrZero(pendingRestarts[s.Name])
		}
		out = append(out, v)
	}
	return out, nil
}

// Disconnect ends user's sessions on every server without revoking: in
// one transaction it records a change (whose version becomes the request's
// ID), the request to end the user's sessions that began until now, and
// the audit event. Each agent ends them when it applies that version; a
// login after it stays. It returns how many sessions of the user the
// agents last reported. An unknown user changes nothing.
func (a *Authority) Disconnect(ctx context.Context, user, reason string) (DisconnectResult, error) {
	if err := account.ValidName(user); err != nil {
		return DisconnectResult{}, err
	}
	reason = strings.TrimSpace(reason)
	if !sane(reason, maxReasonLen) {
		return DisconnectResult{}, fmt.Errorf("%w: reason: want one line of at most %d bytes", account.ErrInvalid, maxReasonLen)
	}
	res := DisconnectResult{User: user}
	err := a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := q.GetUser(ctx, user); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUserNotFound, user)
		} else if err != nil {
			return err
		}
		now := a.now().Unix()
		detail := map[string]any{}
		if reason != "" {
			detail["reason"] = reason
		}
		if err := a.recordChange(ctx, q, ChangeDisconnect, user, detail); err != nil {
			return err
		}
		// This transaction holds the version counter: the newest version
		// is the change just recorded.
		v, err := q.Version(ctx)
		if err != nil {
			return err
		}
		if err := q.InsertSessionEnd(ctx, store.SessionEnd{ID: v, User: user, Before: now, Reason: reason, CreatedAt: now}); err != nil {
			return err
		}
		detail["version"] = v
		res.Version = v
		return a.audit(ctx, q, ActionDisconnect, user, detail)
	})
	if err != nil {
		return DisconnectResult{}, err
	}
	// The request is committed: failing to count sessions must not say
	// otherwise.
	if list, err := a.Sessions(ctx, ""); err != nil {
		a.log.WarnContext(ctx, "counting sessions after disconnect", "user", user, "err", err)
	} else {
		for _, s := range list {
			if s.User == user {
				res.Sessions++
			}
		}
	}
	return res, nil
}
