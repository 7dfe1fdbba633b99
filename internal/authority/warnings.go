package authority

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Expiry warnings (issue 14). A pass (SendWarnings) mails every user whose
// active certificate ends within the largest threshold of the schedule
// (default 30, 7 and 1 days) a warning with a one-time renewal link, once
// per (serial, threshold), and the admin a digest once per UTC day.
//
// Once, across serve instances and crashes: a warning is claimed by adding
// its row to expiry_warnings before the mail is sent; only the instance
// whose INSERT added the row sends, sets sent_at afterwards, and deletes
// its claim if the send failed (the next pass retries). A claim older than
// staleClaim that was never sent (its instance died mid-send) is taken over
// by a conditional UPDATE whose row count decides the new owner.
//
// Catch-up: the threshold due is the smallest d with daysLeft <= d, so a
// user found at 5 days left gets the 7-day warning only; the farther ones
// not sent (30) are recorded as passed, without a mail of their own.

// staleClaim is how long a claimed, unsent warning blocks the others.
const staleClaim = 10 * time.Minute

// maxRenewLinkTTL caps a renewal link's life (it otherwise lasts until the
// certificate's end).
const maxRenewLinkTTL = 31 * 24 * time.Hour

// warnWorkers is how many warnings one pass sends at once.
const warnWorkers = 4

// WarnItem is a user certificate due for a warning.
type WarnItem struct {
	User      string    `json:"user"`
	Email     string    `json:"email,omitempty"`
	Lang      string    `json:"lang"`
	Serial    string    `json:"serial"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	Threshold int       `json:"threshold"`        // the warning due: 30, 7, 1...
	Passed    []int     `json:"passed,omitempty"` // farther thresholds recorded with it, no mail of their own
	NoEmail   bool      `json:"no_email,omitempty"`

	fullName, os string
}

// WarnResult tells what a pass did.
type WarnResult struct {
	Due     []WarnItem `json:"due"`     // what was due this pass, users without email included
	Sent    int        `json:"sent"`    // warnings mailed by this pass
	Failed  int        `json:"failed"`  // sends that failed (retried next pass)
	Skipped int        `json:"skipped"` // due, but the user has no email address
	Others  int        `json:"others"`  // claimed by another instance meanwhile
	Digest  bool       `json:"digest"`  // the admin's digest was mailed by this pass
}

// SendWarnings runs one pass of expiry warnings with the schedule days (in
// days before the end; empty: no user warnings, the digest still goes).
// A send that fails is counted and logged, and retried by the next pass;
// the error joins them, so a caller that only logs may go on.
func (a *Authority) SendWarnings(ctx context.Context, m Mailer, days []int) (WarnResult, error) {
	if m == nil {
		return WarnResult{}, ErrNoMail
	}
	now := a.now()
	items, err := a.PlanWarnings(ctx, days)
	if err != nil {
		return WarnResult{}, err
	}
	res := WarnResult{Due: items}
	claimant := "pass-" + rand.Text()[:16]
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, warnWorkers)
	var wg sync.WaitGroup
	for _, it := range items {
		if it.NoEmail {
			res.Skipped++
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sent, err := a.sendWarning(ctx, m, it, claimant)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				res.Failed++
				errs = append(errs, err)
			case sent:
				res.Sent++
			default:
				res.Others++
			}
		}()
	}
	wg.Wait()
	sent, err := a.sendDigest(ctx, m, days, claimant, now)
	res.Digest = sent
	return res, errors.Join(append(errs, err)...)
}

// PlanWarnings lists the user certificates due for a warning now under the
// schedule days, without sending or recording anything (what
// `warnings send --dry-run` prints).
func (a *Authority) PlanWarnings(ctx context.Context, days []int) ([]WarnItem, error) {
	if len(days) == 0 {
		return nil, nil
	}
	sched := slices.Clone(days)
	slices.Sort(sched) // smallest first
	now := a.now()
	horizon := now.Add(time.Duration(sched[len(sched)-1]) * 24 * time.Hour)
	q := a.db.Q()
	cands, err := q.WarnCandidates(ctx, now.Unix(), horizon.Unix())
	if err != nil {
		return nil, err
	}
	done, err := a.recordedWarnings(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []WarnItem
	for _, c := range cands {
		end := time.Unix(c.NotAfter, 0).UTC()
		left := daysLeft(now, end)
		i, _ := slices.BinarySearch(sched, left) // the smallest d >= left
		if i == len(sched) || done[warnKey{c.Serial, sched[i]}] {
			continue
		}
		it := WarnItem{User: c.User, Email: c.Email, Lang: c.Lang, Serial: c.Serial, NotAfter: end, DaysLeft: left,
			Threshold: sched[i], NoEmail: c.Email == "", fullName: c.FullName, os: c.OS}
		for _, d := range sched[i+1:] {
			if !done[warnKey{c.Serial, d}] {
				it.Passed = append(it.Passed, d)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

type warnKey struct {
	serial string
	days   int
}

// recordedWarnings are the warnings sent or passed, and those claimed by
// an instance that may still be sending (a claim older than staleClaim
// is not: a pass may take it over).
func (a *Authority) recordedWarnings(ctx context.Context, now time.Time) (map[warnKey]bool, error) {
	ws, err := a.db.Q().Warnings(ctx)
	if err != nil {
		return nil, err
	}
	stale := now.Add(-staleClaim).Unix()
	done := make(map[warnKey]bool, len(ws))
	for _, w := range ws {
		if w.SentAt != 0 || w.ClaimedAt > stale {
			done[warnKey{w.Serial, w.Days}] = true
		}
	}
	return done, nil
}

// claimWarning claims w for claimant (store.ClaimWarning) and tells
// whether it owns it.
func (a *Authority) claimWarning(ctx context.Context, w store.Warning, claimant string) (bool, error) {
	var owned bool
	err := a.withRetry(ctx, func(q *store.Queries) error {
		var err error
		owned, err = q.ClaimWarning(ctx, w, claimant, staleBefore(w.ClaimedAt))
		return err
	})
	return owned, err
}

// staleBefore is the claim time at or before which a claim made at now is
// stale.
func staleBefore(now int64) int64 { return time.Unix(now, 0).Add(-staleClaim).Unix() }

// releaseWarning drops claimant's claim after a failed send, and the
// renewal link (hash) that was never delivered.
func (a *Authority) releaseWarning(ctx context.Context, serial string, days int, claimant, linkHash string) error {
	return a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.ReleaseWarning(ctx, serial, days, claimant); err != nil {
			return err
		}
		if linkHash == "" {
			return nil
		}
		return q.DeleteLink(ctx, linkHash)
	})
}

// sendWarning claims, mails and records one warning. It tells whether this
// call sent it (false, nil: another instance holds it, or the certificate
// was renewed or revoked since the plan).
func (a *Authority) sendWarning(ctx context.Context, m Mailer, it WarnItem, claimant string) (bool, error) {
	now := a.now()
	l, owned, err := a.claimWithLink(ctx, it, claimant, now)
	if err != nil || !owned {
		return false, err
	}
	if err := a.mailWarning(ctx, m, it, l); err != nil {
		a.log.WarnContext(ctx, "expiry warning not sent; the next pass retries", "user", it.User, "days", it.Threshold, "err", err)
		return false, errors.Join(fmt.Errorf("warning %s: %w", it.User, err),
			a.releaseWarning(ctx, it.Serial, it.Threshold, claimant, hashSecret(l.Token)))
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.FinishWarning(ctx, it.Serial, it.Threshold, claimant, a.now().Unix(), it.Passed); err != nil {
			return err
		}
		return a.audit(ctx, q, "warn.sent", it.User, map[string]any{"serial": it.Serial, "days": it.Threshold,
			"days_left": it.DaysLeft, "to": it.Email, "passed": it.Passed})
	})
	return err == nil, err
}

// claimWithLink claims the warning and, when this call owns it, makes its
// renewal link in the same transaction (warnings_renew.go). A certificate renewed
// or revoked since the plan is neither claimed nor linked.
func (a *Authority) claimWithLink(ctx context.Context, it WarnItem, claimant string, now time.Time) (Link, bool, error) {
	var l Link
	var owned bool
	w := store.Warning{Serial: it.Serial, Days: it.Threshold, User: it.User, ClaimedAt: now.Unix()}
	err := a.withRetry(ctx, func(q *store.Queries) error {
		var err error
		if owned, err = q.ClaimWarning(ctx, w, claimant, staleBefore(w.ClaimedAt)); err != nil || !owned {
			return err
		}
		l, err = a.insertRenewLink(ctx, q, it.User, it.Serial, it.NotAfter, now)
		return err
	})
	if errors.Is(err, ErrRenewStale) {
		return Link{}, false, nil
	}
	return l, owned, err
}

// mailWarning mails the warning with its renewal link l.
func (a *Authority) mailWarning(ctx context.Context, m Mailer, it WarnItem, l Link) error {
	d := mail.WarnData{TextData: mail.TextData{User: it.User, FullName: it.fullName, OS: it.os, Company: a.opts.Company,
		Contact: a.opts.Contact, Link: l.URL, LinkExpires: l.ExpiresAt.Format("2006-01-02 15:04 MST")},
		DaysLeft: it.DaysLeft, Expires: it.NotAfter.Format(time.DateOnly)}
	msg := mail.Message{To: it.Email}
	var err error
	if msg.Subject, msg.Text, err = mail.RenderWarn(it.Lang, d); err != nil {
		return err
	}
	start := a.now()
	err = m.Send(ctx, msg)
	a.observe("mail", start, err)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMailFailed, err)
	}
	return nil
}

// KeepWarnings runs a pass of SendWarnings at once and then every
// interval until ctx ends. Errors are logged; the next pass retries.
func (a *Authority) KeepWarnings(ctx context.Context, m Mailer, days []int, interval time.Duration) {
	if _, ok := ctx.Value(actorKey{}).(Actor); !ok {
		ctx = WithActor(ctx, Actor{Name: "warnings", Source: a.opts.Hostname})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := a.SendWarnings(ctx, m, days)
		if err != nil && ctx.Err() == nil {
			a.log.ErrorContext(ctx, "expiry warnings", "err", err)
		}
		if res.Sent > 0 || res.Failed > 0 || res.Digest {
			a.log.InfoContext(ctx, "expiry warnings sent", "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped, "digest", res.Digest)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
