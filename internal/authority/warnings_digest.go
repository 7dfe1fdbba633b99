package authority

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// caWarnDays is how far ahead the admin's digest lists the CA: a new CA
// takes planning (vpnkeys ca rollover).
const caWarnDays = 365

// digestDays is the digest's horizon for users and servers when the
// schedule is empty (no user warnings).
const digestDays = 30

// digestPrefix keys the admin's digest in expiry_warnings: one row per
// UTC day, days 0.
const digestPrefix = "digest:"

// DigestItems lists what the admin's digest names now: the users, servers
// and CA that end within the schedule's largest threshold, and the CA
// within caWarnDays; users without an email address are flagged.
func (a *Authority) DigestItems(ctx context.Context, days []int) ([]mail.DigestItem, error) {
	now := a.now()
	horizon := digestDays
	if len(days) > 0 {
		horizon = slices.Max(days)
	}
	list, err := a.Expiring(ctx, time.Duration(max(horizon, caWarnDays))*24*time.Hour)
	if err != nil {
		return nil, err
	}
	noEmail, err := a.usersWithoutEmail(ctx, now, horizon)
	if err != nil {
		return nil, err
	}
	limit := now.Add(time.Duration(horizon) * 24 * time.Hour)
	var out []mail.DigestItem
	for _, v := range list {
		if v.Kind != ExpiringCA && v.NotAfter.After(limit) {
			continue
		}
		out = append(out, mail.DigestItem{Kind: v.Kind, Name: v.Name, Expires: v.NotAfter.Format(time.DateOnly),
			DaysLeft: v.DaysLeft, NoEmail: v.Kind == ExpiringUser && noEmail[v.Name]})
	}
	return out, nil
}

// usersWithoutEmail names the users whose certificate ends within horizon
// days and who have no email address.
func (a *Authority) usersWithoutEmail(ctx context.Context, now time.Time, horizon int) (map[string]bool, error) {
	cands, err := a.db.Q().WarnCandidates(ctx, now.Unix(), now.Add(time.Duration(horizon)*24*time.Hour).Unix())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, c := range cands {
		if c.Email == "" {
			out[c.User] = true
		}
	}
	return out, nil
}

// sendDigest mails the admin the digest, at most once per UTC day across
// instances (claimed as warnings are). No admin address: a warning in the
// log, no error.
func (a *Authority) sendDigest(ctx context.Context, m Mailer, days []int, claimant string, now time.Time) (bool, error) {
	items, err := a.DigestItems(ctx, days)
	if err != nil || len(items) == 0 {
		return false, err
	}
	if m.Admin() == "" {
		a.log.WarnContext(ctx, "certificates expire soon but no admin address is set for the digest (smtp.admin)", "count", len(items))
		return false, nil
	}
	day := now.UTC().Format(time.DateOnly)
	key := digestPrefix + day
	owned, err := a.claimWarning(ctx, store.Warning{Serial: key, ClaimedAt: now.Unix()}, claimant)
	if err != nil || !owned {
		return false, err
	}
	msg := mail.Message{To: m.Admin()}
	msg.Subject, msg.Text, err = mail.RenderDigest(mail.DigestData{Company: a.opts.Company, Date: day, Items: items})
	if err == nil {
		start := a.now()
		err = m.Send(ctx, msg)
		a.observe("mail", start, err)
	}
	if err != nil {
		return false, errors.Join(err, a.releaseWarning(ctx, key, 0, claimant))
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := q.FinishWarning(ctx, key, 0, claimant, a.now().Unix(), nil); err != nil {
			return err
		}
		return a.audit(ctx, q, "warn.digest", m.Admin(), map[string]any{"items": len(items), "day": day})
	})
	return err == nil, err
}
