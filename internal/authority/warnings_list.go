package authority

import (
	"context"
	"slices"
	"strings"
	"time"
)

// SentWarningView is one warning recorded: mailed, or passed by a
// catch-up (no mail of its own), or the admin's digest (Kind "digest").
type SentWarningView struct {
	Kind      string    `json:"kind"` // user or digest
	User      string    `json:"user,omitempty"`
	Serial    string    `json:"serial,omitempty"`
	Threshold int       `json:"threshold,omitempty"`
	SentAt    time.Time `json:"sent_at,omitzero"` // zero while a send is under way
	Passed    bool      `json:"passed,omitempty"`
}

// NextWarningView is the next warning a user certificate will get.
type NextWarningView struct {
	User      string    `json:"user"`
	Serial    string    `json:"serial"`
	NotAfter  time.Time `json:"not_after"`
	Threshold int       `json:"threshold"`
	DueAt     time.Time `json:"due_at"` // the first pass after it sends it
	NoEmail   bool      `json:"no_email,omitempty"`
}

// WarningsReport is what `vpnkeys warnings` shows.
type WarningsReport struct {
	Sent []SentWarningView `json:"sent"`
	Next []NextWarningView `json:"next"`
}

// nextHorizon is how far beyond the schedule's largest threshold the
// report looks for warnings to come.
const nextHorizon = 30 * 24 * time.Hour

// Warnings reports the warnings recorded for the active certificates (and
// the digests), newest first, and, under the schedule days, the next
// warning each user certificate gets within the next 30 days, soonest first.
func (a *Authority) Warnings(ctx context.Context, days []int) (WarningsReport, error) {
	ws, err := a.db.Q().Warnings(ctx)
	if err != nil {
		return WarningsReport{}, err
	}
	rep := WarningsReport{Sent: []SentWarningView{}, Next: []NextWarningView{}}
	for _, w := range ws {
		v := SentWarningView{Kind: "user", User: w.User, Serial: w.Serial, Threshold: w.Days, Passed: w.Passed}
		if strings.HasPrefix(w.Serial, digestPrefix) {
			v = SentWarningView{Kind: "digest", Serial: w.Serial}
		}
		if w.SentAt != 0 {
			v.SentAt = time.Unix(w.SentAt, 0).UTC()
		}
		rep.Sent = append(rep.Sent, v)
	}
	if len(days) == 0 {
		return rep, nil
	}
	sched := slices.Clone(days)
	slices.Sort(sched)
	now := a.now()
	horizon := now.Add(time.Duration(sched[len(sched)-1])*24*time.Hour + nextHorizon)
	cands, err := a.db.Q().WarnCandidates(ctx, now.Unix(), horizon.Unix())
	if err != nil {
		return rep, err
	}
	done, err := a.recordedWarnings(ctx, now)
	if err != nil {
		return rep, err
	}
	for _, c := range cands {
		end := time.Unix(c.NotAfter, 0).UTC()
		left := daysLeft(now, end)
		// Due now: the smallest threshold >= left, unless recorded; then
		// the largest one below left, which comes later.
		i, _ := slices.BinarySearch(sched, left)
		var d int
		switch {
		case i < len(sched) && !done[warnKey{c.Serial, sched[i]}]:
			d = sched[i]
		case i > 0:
			d = sched[i-1]
		default:
			continue
		}
		due := end.Add(-time.Duration(d+1) * 24 * time.Hour)
		if due.After(now.Add(nextHorizon)) {
			continue
		}
		if due.Before(now) {
			due = now
		}
		rep.Next = append(rep.Next, NextWarningView{User: c.User, Serial: c.Serial, NotAfter: end, Threshold: d,
			DueAt: due, NoEmail: c.Email == ""})
	}
	slices.SortStableFunc(rep.Next, func(x, y NextWarningView) int { return x.DueAt.Compare(y.DueAt) })
	return rep, nil
}
