package authority

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ErrRenewStale refuses a renewal link whose certificate is no longer the
// user's active one: someone renewed or revoked the access since the
// warning was sent.
var ErrRenewStale = fault.New(fault.Conflict, "renew_stale",
	"this renewal link is out of date: the access was renewed or revoked since it was sent")

// insertRenewLink makes, in the transaction q, a one-time renewal link
// for user's certificate serial, valid until the certificate's end (at
// most maxRenewLinkTTL); the caller checked that serial is the user's
// active certificate (isCurrentCert). The token is in the returned URL
// only: never audited.
func (a *Authority) insertRenewLink(ctx context.Context, q *store.Queries, user, serial string, end, now time.Time) (Link, error) {
	tok, err := newSecret(linkPrefix)
	if err != nil {
		return Link{}, err
	}
	exp := end
	if limit := now.Add(maxRenewLinkTTL); exp.After(limit) {
		exp = limit
	}
	l := Link{User: user, Token: tok, URL: a.linkURL(tok), ExpiresAt: exp.UTC()}
	if err := q.InsertLink(ctx, store.Link{TokenHash: hashSecret(tok), User: user, Serial: serial,
		CreatedAt: now.Unix(), ExpiresAt: exp.Unix(), Purpose: store.LinkRenew}); err != nil {
		return Link{}, err
	}
	return l, a.audit(ctx, q, "link.create", user, map[string]any{"expires": l.ExpiresAt, "purpose": store.LinkRenew})
}

// isCurrentCert tells whether serial is still user's active certificate
// (not renewed or revoked since).
func isCurrentCert(ctx context.Context, q *store.Queries, user, serial string) (bool, error) {
	uc, err := q.GetUser(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c := uc.Cert
	return c != nil && c.Serial == serial && c.State == store.StateActive, nil
}

// renewStale turns the refusal of a renewal link whose certificate was
// replaced or revoked into ErrRenewStale (its own page); other errors pass.
func renewStale(l store.Link, err error) error {
	if l.Purpose == store.LinkRenew && errors.Is(err, ErrNotActive) {
		return fmt.Errorf("%w: %s", ErrRenewStale, l.User)
	}
	return err
}

// redeemRenewal uses a renewal link up: it spends the link (exactly once,
// however many clicks race), renews the user's certificate as `vpnkeys
// renew` does (the old one superseded, its sessions ended by the agents)
// and returns the new profile. If the renewal fails the link is given
// back, so the employee can try again.
func (a *Authority) redeemRenewal(ctx context.Context, l store.Link, from string, asZip bool) (Download, error) {
	start := a.now()
	err := a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.RedeemLink(ctx, l.TokenHash, a.now().Unix(), from); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return renewStale(l, a.whyNotRedeemed(ctx, q, l.TokenHash))
			}
			return err
		}
		return a.audit(ctx, q, "link.redeem", l.User, map[string]any{"zip": asZip, "purpose": store.LinkRenew})
	})
	if err != nil {
		a.observe("link.redeem", start, err)
		return Download{}, err
	}
	res, err := a.Renew(ctx, l.User, AddOptions{})
	if err != nil {
		a.observe("link.redeem", start, err)
		back := a.withRetry(ctx, func(q *store.Queries) error { return q.UnredeemLink(ctx, l.TokenHash) })
		return Download{}, errors.Join(fmt.Errorf("renewing %s: %w", l.User, err), back)
	}
	d, err := a.download(ctx, l.User, res.Serial, asZip)
	a.observe("link.redeem", start, err)
	return d, err
}
