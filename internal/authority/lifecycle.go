package authority

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// abandonAfter is how long a certificate may stay pending (recorded, its
// key possibly staged on disk, not yet handed out) before it counts as
// left behind by a killed process and is revoked. A batch takes well under
// a second; a process that is merely slow loses its batch, which retries.
const abandonAfter = 10 * time.Minute

// ErrRevokedUser refuses to give a revoked user access again without an
// explicit choice (AddOptions.Reinstate).
var ErrRevokedUser = fmt.Errorf("%w: user was revoked", account.ErrInvalid)

// refuseRevoked fails when any request names a user whose access was
// revoked: onboarding them again must be asked for (Reinstate).
func (a *Authority) refuseRevoked(ctx context.Context, reqs []UserRequest) error {
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = r.Name
	}
	revoked, err := a.revokedUsers(ctx, names)
	if err != nil {
		return err
	}
	var msgs []string
	for _, n := range names {
		if why, ok := revoked[n]; ok {
			msgs = append(msgs, why)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return revokedError(strings.Join(msgs, "; "))
}

// revokedUsers returns, for each of names whose current certificate was
// revoked, a line saying when and why.
func (a *Authority) revokedUsers(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(names); start += 500 {
		part, err := a.db.Q().ListUsers(ctx, store.UserFilter{Names: names[start:min(start+500, len(names))]})
		if err != nil {
			return nil, err
		}
		for _, u := range part {
			if u.Cert != nil && u.Cert.State == store.StateRevoked {
				out[u.Name] = revokedLine(u)
			}
		}
	}
	return out, nil
}

// revokedError refuses revoked users, named by lines from revokedLine.
func revokedError(lines string) error {
	return fmt.Errorf("%w: %s; reinstating must be asked for explicitly", ErrRevokedUser, lines)
}

// revokedLine says when and why a revoked user lost their access.
func revokedLine(u store.UserCert) string {
	return fmt.Sprintf("%s was revoked on %s (%s)", u.Name, u.Cert.RevokedAt.Format(time.DateOnly), u.Cert.Reason)
}

// reapAbandoned revokes the certificates a killed process recorded as
// pending and never handed out (their keys may sit in a staged bundle it
// left), re-signs the CRL when there were any, and publishes it.
func (a *Authority) reapAbandoned(ctx context.Context) error {
	u, err := a.ca()
	if err != nil {
		return err
	}
	if any, err := a.db.Q().HasAbandoned(ctx, a.now().Add(-abandonAfter).Unix()); err != nil || !any {
		return err
	}
	var ended []store.EndedCert
	err = a.withRetry(ctx, func(q *store.Queries) error {
		now := a.now()
		var err error
		ended, err = q.RevokeAbandoned(ctx, now.Add(-abandonAfter).Unix(), now.Unix(), pki.CessationOfOperation.String())
		if err != nil || len(ended) == 0 {
			return err
		}
		for _, e := range ended {
			if err := a.audit(ctx, q, "cert.abandoned", e.Subject, map[string]any{"serial": e.Serial, "kind": e.Kind}); err != nil {
				return err
			}
		}
		_, err = a.signCRL(ctx, q, u)
		return err
	})
	if err != nil || len(ended) == 0 {
		return err
	}
	a.log.Warn("revoked certificates a killed run left pending", "count", len(ended))
	_, err = a.publishCRL(ctx)
	return err
}
