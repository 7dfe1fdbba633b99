package authority

import (
	"context"
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// RevokeResult tells what revoking did for one user.
type RevokeResult struct {
	User string
	// Serial is the first certificate put on the CRL (the active one);
	// Serials all of them: an imported PKI can hold older ones still valid.
	Serial  string
	Serials []string
	// AlreadyRevoked tells that the user's access had been revoked before:
	// nothing was signed, the newest CRL was published again.
	AlreadyRevoked bool
	// LinksEnded counts the open one-time links the revocation ended.
	LinksEnded int
	// BundleRemoved lists the bundle files (private key included) removed.
	BundleRemoved []string
	// Err is set when there was nothing to revoke (no valid certificate).
	Err error
	CRL CRLInfo
}

// Revoke revokes one user; see RevokeUsers.
func (a *Authority) Revoke(ctx context.Context, name, reason string) (RevokeResult, error) {
	res, err := a.RevokeUsers(ctx, []string{name}, reason)
	if err != nil {
		if len(res) == 1 {
			return res[0], err
		}
		return RevokeResult{User: name}, err
	}
	return res[0], res[0].Err
}

// RevokeUsers takes the users' access away, with reason one of Reasons()
// ("" is unspecified) in one transaction: every
// certificate of theirs that is not expired goes on the CRL (the active
// one, and any older one still valid), their open links end (a link never
// outlives its certificate), the CRL is re-signed once for the whole call,
// and afterwards the newest CRL is written to every server folder vpnkeys
// wrote on this machine and their bundles are removed from the bundles
// folder. A user revoked before is not an error: the CRL is published
// again, which repairs a revocation whose process died after its commit.
// An unknown user fails the call with nothing changed; a user with nothing
// to revoke gets Err in their result while the others are revoked.
func (a *Authority) RevokeUsers(ctx context.Context, names []string, reasonText string) ([]RevokeResult, error) {
	reason, err := parseReason(reasonText)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, n := range names {
		if err := account.ValidName(n); err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: user %s given twice", account.ErrInvalid, n)
		}
		seen[n] = true
	}
	u, err := a.ca()
	if err != nil {
		return nil, err
	}
	var res []RevokeResult
	start := a.now()
	err = a.withRetry(ctx, func(q *store.Queries) error {
		var err error
		res, err = a.revokeInTx(ctx, q, u, names, reason)
		return err
	})
	a.observe("revoke", start, err)
	if err != nil {
		return nil, err
	}
	info, err := a.publishCRL(ctx)
	for i := range res {
		res[i].CRL = info
	}
	if err != nil {
		return res, fmt.Errorf("revoked, but writing crl.pem failed (run the same revoke again to publish it): %w", err)
	}
	return res, a.removeBundles(ctx, res)
}

// revokeInTx records the revocations in q and signs one CRL when anything
// changed.
func (a *Authority) revokeInTx(ctx context.Context, q *store.Queries, u *unlockedCA, names []string, reason pki.Reason) ([]RevokeResult, error) {
	now := a.now().Unix()
	res := make([]RevokeResult, len(names))
	changed := false
	for i, name := range names {
		uc, err := q.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		if err != nil {
			return nil, err
		}
		r := RevokeResult{User: name}
		ended, err := q.RevokeAllOf(ctx, store.KindClient, name, now, reason.String(), now)
		if err != nil {
			return nil, err
		}
		for _, e := range ended {
			r.Serials = append(r.Serials, e.Serial)
		}
		switch {
		case len(ended) > 0:
			r.Serial = firstOf(r.Serials, uc.CurrentSerial)
			changed = true
			if r.LinksEnded, err = q.CountOpenLinks(ctx, r.Serials, now); err != nil {
				return nil, err
			}
			detail := map[string]any{"serial": r.Serial, "serials": r.Serials, "reason": reason.String(), "links_ended": r.LinksEnded}
			if err := a.audit(ctx, q, "user.revoke", name, detail); err != nil {
				return nil, err
			}
			if err := a.recordChange(ctx, q, ChangeRevoke, name, map[string]any{"serials": r.Serials}); err != nil {
				return nil, err
			}
		case uc.Cert != nil && uc.Cert.State == store.StateRevoked:
			r.AlreadyRevoked, r.Serial = true, uc.Cert.Serial
		default:
			r.Err = fmt.Errorf("%w: %s", ErrNotActive, name)
		}
		res[i] = r
	}
	if changed {
		if _, err := a.signCRL(ctx, q, u); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// firstOf returns want when it is among serials, else the first one.
func firstOf(serials []string, want string) string {
	for _, s := range serials {
		if s == want {
			return s
		}
	}
	return serials[0]
}

// removeBundles deletes revoked users' bundles from the bundles folder, so
// their private keys do not stay on disk, and records it in the audit log.
func (a *Authority) removeBundles(ctx context.Context, res []RevokeResult) error {
	if a.opts.DataDir == "" {
		return nil
	}
	var errs []error
	for i := range res {
		if res[i].Err != nil {
			continue
		}
		removed, err := bundle.Remove(a.BundleDir(), res[i].User)
		if err != nil {
			errs = append(errs, err)
		}
		res[i].BundleRemoved = removed
	}
	err := a.withRetry(ctx, func(q *store.Queries) error {
		for _, r := range res {
			if len(r.BundleRemoved) > 0 {
				if err := a.audit(ctx, q, "user.bundle.remove", r.User, map[string]any{"removed": r.BundleRemoved}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return errors.Join(append(errs, err)...)
}

// Renew issues a user a fresh key and certificate, revokes the old one as
// superseded and rewrites the bundle. A revoked user is refused unless
// opts.Reinstate.
func (a *Authority) Renew(ctx context.Context, name string, opts AddOptions) (AddResult, error) {
	if err := account.ValidName(name); err != nil {
		return AddResult{}, err
	}
	if _, err := a.db.Q().GetUser(ctx, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return AddResult{}, fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		return AddResult{}, err
	}
	opts.NewKey = true
	res, err := a.AddUsers(ctx, []UserRequest{{Name: name}}, opts)
	if err != nil {
		return AddResult{}, err
	}
	return res[0], nil
}
