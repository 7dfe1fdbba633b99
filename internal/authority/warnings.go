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

// warnWorkers is how many warnings one pass sends at once, and warnBatch
// how many it claims in one transaction.
const (
	warnWorkers = 4
	warnBatch   = 64
)

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
	var todo []WarnItem
	for _, it := range items {
		if it.NoEmail {
			res.Skipped++
			continue
		}
		todo = append(todo, it)
	}
	var errs []error
	for len(todo) > 0 && ctxDone(ctx) == nil {
		n := min(warnBatch, len(todo))
		b, err := a.sendBatch(ctx, m, todo[:n], claimant)
		res.Sent, res.Failed, res.Others = res.Sent+b.Sent, res.Failed+b.Failed, res.Others+b.Others
		errs = append(errs, err)
		todo = todo[n:]
	}
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

// releaseWarning drops claimant's unsent claim, so that the next pass
// tries again.
func (a *Authority) releaseWarning(ctx context.Context, serial string, days int, claimant string) error {
	return a.withRetry(ctx, func(q *store.Queries) error { return q.ReleaseWarning(ctx, serial, days, claimant) })
}

// claimedWarning is a warning this pass owns, with its renewal link and
// how its send went.
type claimedWarning struct {
	it   WarnItem
	link Link
	err  error
}

// sendBatch claims a batch of warnings in one transaction (with their
// renewal links), mails the ones it owns, warnWorkers at a time, and
// records the outcome in one more: a sent one as sent, a failed one's
// claim and link dropped so that the next pass retries. Two commits per
// batch rather than per mail: on SQLite each costs an fsync.
func (a *Authority) sendBatch(ctx context.Context, m Mailer, batch []WarnItem, claimant string) (WarnResult, error) {
	owned, err := a.claimBatch(ctx, batch, claimant)
	if err != nil {
		return WarnResult{Failed: len(batch)}, err
	}
	res := WarnResult{Others: len(batch) - len(owned)}
	a.mailWarnings(ctx, m, owned)
	var errs []error
	for _, c := range owned {
		if c.err != nil {
			res.Failed++
			a.log.WarnContext(ctx, "expiry warning not sent; the next pass retries", "user", c.it.User, "days", c.it.Threshold, "err", c.err)
			errs = append(errs, fmt.Errorf("warning %s: %w", c.it.User, c.err))
		}
	}
	sent, err := a.recordBatch(ctx, owned, claimant)
	res.Sent = sent
	return res, errors.Join(append(errs, err)...)
}

// claimBatch claims each warning of batch that is still due (its
// certificate still the user's active one) and makes its renewal link, in
// one transaction; it returns the ones this pass owns.
func (a *Authority) claimBatch(ctx context.Context, batch []WarnItem, claimant string) ([]claimedWarning, error) {
	var out []claimedWarning
	err := a.withRetry(ctx, func(q *store.Queries) error {
		out = out[:0]
		now := a.now()
		for _, it := range batch {
			w := store.Warning{Serial: it.Serial, Days: it.Threshold, User: it.User, ClaimedAt: now.Unix()}
			if current, err := isCurrentCert(ctx, q, it.User, it.Serial); err != nil || !current {
				if err != nil {
					return err
				}
				continue // renewed or revoked since the plan
			}
			owned, err := q.ClaimWarning(ctx, w, claimant, staleBefore(w.ClaimedAt))
			if err != nil {
				return err
			}
			if !owned {
				continue
			}
			l, err := a.insertRenewLink(ctx, q, it.User, it.Serial, it.NotAfter, now)
			if err != nil {
				return err
			}
			out = append(out, claimedWarning{it: it, link: l})
		}
		return nil
	})
	return out, err
}

// recordBatch records the sent warnings of a batch (warn.sent audited)
// and drops the claims and links of the failed ones; it returns how many
// were recorded as sent by this pass.
func (a *Authority) recordBatch(ctx context.Context, owned []claimedWarning, claimant string) (int, error) {
	var sent int
	err := a.withRetry(ctx, func(q *store.Queries) error {
		sent = 0
		at := a.now().Unix()
		for _, c := range owned {
			if c.err != nil {
				if err := q.ReleaseWarning(ctx, c.it.Serial, c.it.Threshold, claimant); err != nil {
					return err
				}
				if err := q.DeleteLink(ctx, hashSecret(c.link.Token)); err != nil {
					return err
				}
				continue
			}
			if ok, err := q.FinishWarning(ctx, c.it.Serial, c.it.Threshold, claimant, at, c.it.Passed); err != nil {
				return err
			} else if !ok { // sent, but so slowly that another pass took its claim over
				a.log.WarnContext(ctx, "expiry warning sent after its claim was taken over", "user", c.it.User, "days", c.it.Threshold)
			}
			sent++
			if err := a.audit(ctx, q, "warn.sent", c.it.User, map[string]any{"serial": c.it.Serial, "days": c.it.Threshold,
				"days_left": c.it.DaysLeft, "to": c.it.Email, "passed": c.it.Passed}); err != nil {
				return err
			}
		}
		return nil
	})
	return sent, err
}

// manyMailer is a Mailer that sends several messages over one
// connection (*mail.Sender is one): a pass then pays one TLS handshake per
// group of warnings rather than one per mail.
type manyMailer interface {
	SendMany(ctx context.Context, msgs []mail.Message) []error
}

// mailWarnings mails the warnings owned, in warnWorkers groups at once,
// and sets each one's err.
func (a *Authority) mailWarnings(ctx context.Context, m Mailer, owned []claimedWarning) {
	msgs := make([]mail.Message, len(owned))
	for i := range owned {
		msgs[i], owned[i].err = a.renderWarning(owned[i].it, owned[i].link)
	}
	size := max(1, (len(owned)+warnWorkers-1)/warnWorkers)
	var wg sync.WaitGroup
	for lo := 0; lo < len(owned); lo += size {
		hi := min(lo+size, len(owned))
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := a.now()
			var errs []error
			if mm, ok := m.(manyMailer); ok {
				errs = mm.SendMany(ctx, msgs[lo:hi])
			} else {
				for _, msg := range msgs[lo:hi] {
					errs = append(errs, m.Send(ctx, msg))
				}
			}
			for k, err := range errs {
				c := &owned[lo+k]
				if c.err == nil && err != nil {
					c.err = fmt.Errorf("%w: %w", ErrMailFailed, err)
				}
				a.observe("mail", start, c.err)
			}
		}()
	}
	wg.Wait()
}

// renderWarning is the warning mail of it with its renewal link l, in the
// user's language.
func (a *Authority) renderWarning(it WarnItem, l Link) (mail.Message, error) {
	d := mail.WarnData{TextData: mail.TextData{User: it.User, FullName: it.fullName, OS: it.os, Company: a.opts.Company,
		Contact: a.opts.Contact, Link: l.URL, LinkExpires: l.ExpiresAt.Format("2006-01-02 15:04 MST")},
		DaysLeft: it.DaysLeft, Expires: it.NotAfter.Format(time.DateOnly)}
	msg := mail.Message{To: it.Email}
	var err error
	msg.Subject, msg.Text, err = mail.RenderWarn(it.Lang, d)
	return msg, err
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
