package authority

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/roster"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Roster is a CSV roster read and checked row by row: the requests to
// onboard and the rows refused already, each with its line.
type Roster struct {
	reqs  []UserRequest
	lines []int // lines[i] is the line of reqs[i]
	rows  int
	bad   []RefusedRow
}

// RefusedRow is a roster row that was not onboarded, with a reason safe to
// show.
type RefusedRow struct {
	Line   int
	User   string
	Reason string
}

func (r RefusedRow) String() string {
	return roster.RowError{Line: r.Line, User: r.User, Err: errors.New(r.Reason)}.Error()
}

// ReadRoster parses a CSV roster (see package roster). A file that cannot
// be read as a roster fails whole; a bad row is only refused.
func ReadRoster(r io.Reader) (Roster, error) {
	rows, bad, err := roster.Parse(r)
	if err != nil {
		return Roster{}, fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	ro := Roster{rows: len(rows) + len(bad)}
	for _, b := range bad {
		ro.bad = append(ro.bad, RefusedRow{Line: b.Line, User: b.User, Reason: b.Err.Error()})
	}
	for _, row := range rows {
		ro.reqs = append(ro.reqs, UserRequest{Name: row.User, Email: row.Email, FullName: row.Name, OS: row.OS, Lang: row.Lang, Groups: row.Groups})
		ro.lines = append(ro.lines, row.Line)
	}
	return ro, nil
}

// Onboardable counts the rows not refused while reading.
func (ro Roster) Onboardable() int { return len(ro.reqs) }

// Report is what the roster reports before anything is onboarded: its
// rows and those refused while reading.
func (ro Roster) Report() RosterReport {
	return RosterReport{Rows: ro.rows, Refused: append([]RefusedRow(nil), ro.bad...)}
}

// RosterReport tells what ImportRoster did.
type RosterReport struct {
	Rows      int // data rows in the file
	Issued    int // new certificates
	Kept      int // valid certificate kept, details or bundle updated
	Unchanged int // already onboarded with the same details: nothing written
	Results   []AddResult
	// Refused lists every refused row, in file order: those the reading
	// refused and those the service refused (a revoked user without
	// Reinstate).
	Refused []RefusedRow
	// Stopped tells that AllOrNothing kept the good rows from onboarding.
	Stopped bool
}

// ImportRoster onboards a roster's good rows with one CA unlock (or none
// when any row was refused and opts.AllOrNothing). Users already onboarded
// with the same details are left alone, so importing the same file twice
// changes nothing. The CLI and the web pages both call this.
func (a *Authority) ImportRoster(ctx context.Context, ro Roster, opts AddOptions) (RosterReport, error) {
	rep := ro.Report()
	if len(rep.Refused) > 0 && opts.AllOrNothing {
		rep.Stopped = true
		return rep, nil
	}
	if len(ro.reqs) == 0 {
		return rep, nil
	}
	res, err := a.onboardRoster(ctx, ro.reqs, opts)
	rep.Issued, rep.Kept, rep.Unchanged, rep.Results = res.Issued, res.Kept, res.Unchanged, res.Results
	for i, r := range ro.reqs {
		if why, ok := res.refused[r.Name]; ok {
			rep.Refused = append(rep.Refused, RefusedRow{Line: ro.lines[i], User: r.Name, Reason: why.Error()})
		}
	}
	slices.SortFunc(rep.Refused, func(x, y RefusedRow) int { return x.Line - y.Line })
	rep.Stopped = res.stopped
	return rep, err
}

// rosterResult is what onboardRoster did.
type rosterResult struct {
	Issued, Kept, Unchanged int
	Results                 []AddResult
	refused                 map[string]error
	stopped                 bool
}

// onboardRoster gives every requested user access with one CA unlock.
// Users already onboarded with the same details and a valid certificate are
// left alone entirely; revoked users are refused unless opts.Reinstate.
// The rows were checked by ReadRoster with the account rules, and AddUsers
// checks what it is given: nothing is validated here a third time.
func (a *Authority) onboardRoster(ctx context.Context, reqs []UserRequest, opts AddOptions) (rosterResult, error) {
	res := rosterResult{refused: map[string]error{}}
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = r.Name
	}
	existing := map[string]store.UserCert{}
	for start := 0; start < len(names); start += 500 {
		part, err := a.db.Q().ListUsers(ctx, store.UserFilter{Names: names[start:min(start+500, len(names))]})
		if err != nil {
			return res, err
		}
		for _, u := range part {
			existing[u.Name] = u
		}
	}
	now := a.now()
	groups, err := a.db.Q().GroupNames(ctx)
	if err != nil {
		return res, err
	}
	var todo []UserRequest
	for _, r := range reqs {
		if err := knownGroups(r.Groups, groups); err != nil {
			res.refused[r.Name] = err
			continue
		}
		cur, ok := existing[r.Name]
		if ok && !opts.Reinstate && cur.Cert != nil && cur.Cert.State == store.StateRevoked {
			res.refused[r.Name] = revokedError(revokedLine(cur))
			continue
		}
		if ok && unchanged(r, cur, now) && a.inGroups(ctx, r) {
			res.Unchanged++
			continue
		}
		todo = append(todo, r)
	}
	if len(res.refused) > 0 && opts.AllOrNothing {
		res.stopped = true
		return res, nil
	}
	if opts.Progress != nil && res.Unchanged > 0 {
		inner := opts.Progress
		done := res.Unchanged
		opts.Progress = func(n, _ int) { inner(done+n, len(reqs)) }
	}
	if len(todo) == 0 {
		return res, nil
	}
	out, err := a.AddUsers(ctx, todo, opts)
	for _, r := range out {
		if r.Issued {
			res.Issued++
		} else {
			res.Kept++
		}
	}
	res.Results = out
	return res, err
}

// unchanged tells whether a request would change nothing for cur.
func unchanged(r UserRequest, cur store.UserCert, now time.Time) bool {
	c := cur.Cert
	if c == nil || c.State != store.StateActive || !c.NotAfter.After(now) {
		return false
	}
	same := func(want, have string) bool { return want == "" || want == have }
	os, _ := account.ParseOS(r.OS, account.OS(cur.OS))
	lang, _ := account.ParseLang(r.Lang, account.Lang(cur.Lang))
	return same(r.Email, cur.Email) && same(r.FullName, cur.FullName) && string(os) == cur.OS && string(lang) == cur.Lang
}
