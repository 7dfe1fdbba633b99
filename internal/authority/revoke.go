package authority

import (
	"context"
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// RevokeResult tells what Revoke did.
type RevokeResult struct {
	User   string
	Serial string
	CRL    CRLInfo
}

// Revoke revokes the user's active certificate with reason, re-signs the
// CRL in the same transaction, and then writes the new crl.pem into every
// server folder vpnkeys wrote on this machine. OpenVPN re-reads crl-verify
// on each new connection, so the user is refused from then on.
func (a *Authority) Revoke(ctx context.Context, name string, reason pki.Reason) (RevokeResult, error) {
	if err := account.ValidName(name); err != nil {
		return RevokeResult{}, err
	}
	u, err := a.ca()
	if err != nil {
		return RevokeResult{}, err
	}
	var serial string
	start := a.now()
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		if _, err := q.GetUser(ctx, name); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrUserNotFound, name)
			}
			return err
		}
		c, err := q.ActiveCert(ctx, store.KindClient, name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNotActive, name)
		}
		if err != nil {
			return err
		}
		serial = c.Serial
		if err := q.EndCert(ctx, c.Serial, store.StateRevoked, a.now().Unix(), reason.String()); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %s (revoked concurrently)", ErrNotActive, name)
			}
			return err
		}
		if err := a.audit(ctx, q, "user.revoke", name, map[string]any{"serial": c.Serial, "reason": reason.String()}); err != nil {
			return err
		}
		_, err = a.signCRL(ctx, q, u)
		return err
	})
	a.observe("revoke", start, err)
	if err != nil {
		return RevokeResult{}, err
	}
	info, err := a.publishCRL(ctx)
	res := RevokeResult{User: name, Serial: serial, CRL: info}
	if err != nil {
		return res, fmt.Errorf("revoked, but writing crl.pem failed: %w", err)
	}
	return res, nil
}

// Renew issues a user a fresh key and certificate, revokes the old one as
// superseded and rewrites the bundle.
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
