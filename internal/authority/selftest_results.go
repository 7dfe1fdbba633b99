package authority

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// What the agents' scheduled self-tests reported, and the admin's mail
// when a check starts failing or passes again. Each check's newest
// result is kept per server (selftest_results); the row's alerted mark
// is flipped by one conditional UPDATE, so among several serve instances
// only the one whose UPDATE changed it sends the mail, once per
// transition.

// SelfTestView is a server's last self-test as `server status` shows it.
type SelfTestView struct {
	At     time.Time   `json:"at"`
	OK     bool        `json:"ok"`
	Checks []CheckView `json:"checks"`
}

// CheckView is one self-test check.
type CheckView struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// selfTestChecks are the check names an agent may report.
var selfTestChecks = []string{"tunnel", "revoked", "crl"}

// alerter holds the mailer of the self-test alerts (SetAlertMailer).
type alerter struct {
	mu     sync.Mutex
	mailer Mailer
	warned bool // "no mailer" was logged
}

// SetAlertMailer sets where failing self-test checks are mailed (the
// admin address); nil mails nothing and logs the first failure instead.
func (a *Authority) SetAlertMailer(m Mailer) {
	a.alerts.mu.Lock()
	defer a.alerts.mu.Unlock()
	a.alerts.mailer = m
}

// CRLDays is the lifetime of the CRLs vpnkeys signs, in days.
func (a *Authority) CRLDays() int { return a.opts.CRLDays }

// validSelfTest refuses a self-test report that names an unknown check
// or gives one twice, and tidies its details to one bounded line each.
func validSelfTest(st *agentwire.SelfTest) error {
	if st == nil {
		return nil
	}
	seen := map[string]bool{}
	for i, c := range st.Checks {
		if seen[c.Name] || !slices.Contains(selfTestChecks, c.Name) {
			return fmt.Errorf("%w: report: self-test check %.20q is unknown or given twice", account.ErrInvalid, c.Name)
		}
		seen[c.Name] = true
		st.Checks[i].Detail = oneLineText(c.Detail, 500)
	}
	return nil
}

// probeSession tells a self-test probe's session (a second or two each
// interval) from a user's: no sessions list, count or metric shows it.
func probeSession(s agentwire.Session) bool {
	return isProbe(s.User)
}

// recordSelfTest stores server's self-test results and mails the admin
// about each check that started failing or passes again.
func (a *Authority) recordSelfTest(ctx context.Context, server string, st *agentwire.SelfTest) error {
	if st == nil || len(st.Checks) == 0 {
		return nil
	}
	at := st.At
	if at.IsZero() || at.After(a.now().Add(time.Hour)) {
		at = a.now()
	}
	err := a.withRetry(ctx, func(q *store.Queries) error {
		for _, c := range st.Checks {
			r := store.SelfTestResult{Server: server, Name: c.Name, OK: c.OK, Detail: c.Detail, At: at.Unix()}
			if err := q.SaveSelfTest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range st.Checks {
		a.alertSelfTest(ctx, server, c, at)
	}
	return nil
}

// alertSelfTest mails the admin when this instance claims c's
// transition (failing, or passing again after a failure was mailed).
func (a *Authority) alertSelfTest(ctx context.Context, server string, c agentwire.Check, at time.Time) {
	a.alerts.mu.Lock()
	m := a.alerts.mailer
	if m == nil || m.Admin() == "" {
		if !c.OK && !a.alerts.warned {
			a.alerts.warned = true
			a.log.WarnContext(ctx, "self-test failing and no admin mail configured: not mailed (set [smtp] and smtp.admin)",
				"server", server, "check", c.Name, "detail", c.Detail)
		}
		a.alerts.mu.Unlock()
		return
	}
	a.alerts.mu.Unlock()
	claimed, err := a.db.Q().ClaimSelfTestAlert(ctx, server, c.Name, !c.OK)
	if err != nil {
		a.log.ErrorContext(ctx, "recording self-test alert", "server", server, "check", c.Name, "err", err)
		return
	}
	if !claimed {
		return
	}
	msg := mail.Message{To: m.Admin()}
	if c.OK {
		msg.Subject = fmt.Sprintf("vpnkeys: self-test of %s passes again: %s", server, c.Name)
		msg.Text = fmt.Sprintf("The self-test check %q of server %s passes again (%s).\n\n%s\n",
			c.Name, server, at.UTC().Format(time.RFC3339), c.Detail)
	} else {
		msg.Subject = fmt.Sprintf("vpnkeys: self-test of %s fails: %s", server, c.Name)
		msg.Text = fmt.Sprintf("The self-test check %q of server %s fails (%s):\n\n  %s\n\n"+
			"Run 'vpnkeys server status' and 'vpnkeys selftest --server %s' for details.\n"+
			"You get one more mail when it passes again.\n",
			c.Name, server, at.UTC().Format(time.RFC3339), c.Detail, server)
	}
	if err := m.Send(ctx, msg); err != nil {
		a.log.ErrorContext(ctx, "mailing self-test alert, retried with the next report", "server", server, "check", c.Name, "err", err)
		if err := a.db.Q().UnclaimSelfTestAlert(ctx, server, c.Name, c.OK); err != nil {
			a.log.ErrorContext(ctx, "releasing self-test alert", "server", server, "check", c.Name, "err", err)
		}
		return
	}
	a.log.InfoContext(ctx, "self-test alert mailed", "server", server, "check", c.Name, "ok", c.OK)
}

// selfTestViews reads every server's last self-test, by server.
func (a *Authority) selfTestViews(ctx context.Context) (map[string]*SelfTestView, error) {
	rows, err := a.db.Q().SelfTestResults(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*SelfTestView{}
	for _, r := range rows {
		v := out[r.Server]
		if v == nil {
			v = &SelfTestView{OK: true}
			out[r.Server] = v
		}
		if t := time.Unix(r.At, 0).UTC(); t.After(v.At) {
			v.At = t
		}
		v.OK = v.OK && r.OK
		v.Checks = append(v.Checks, CheckView{Name: r.Name, OK: r.OK, Detail: r.Detail})
	}
	return out, nil
}

// FailedChecks names v's failing checks, "tunnel, crl"; "" when none.
func (v *SelfTestView) FailedChecks() string {
	if v == nil {
		return ""
	}
	var bad []string
	for _, c := range v.Checks {
		if !c.OK {
			bad = append(bad, c.Name)
		}
	}
	return strings.Join(bad, ", ")
}
