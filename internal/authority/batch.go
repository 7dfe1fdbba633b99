package authority

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// planned is one user's work in a batch.
type planned struct {
	user       store.User
	old        *store.Cert // the certificate being replaced, if any
	cert       store.Cert  // the certificate the bundle carries
	keyPEM     []byte      // its plain key, for the bundle only
	files      []bundle.File
	issued     bool
	reinstated bool
	staged     *bundle.Staged
	revokes    bool // old is still valid and must be revoked
	// unrefuses: the user exists without an active certificate, so
	// agents refuse them (agentwire.State.Refused) until the certificate
	// issued here is recorded as a change.
	unrefuses bool
}

// addBatch retries a batch that lost a race with another process. It
// retries the whole attempt, not only its transactions: the winner may
// have issued or revoked a certificate this batch planned to replace, so
// the batch must read the users again and sign afresh (tryBatch's own
// transactions run once, through txOnce).
func (a *Authority) addBatch(ctx context.Context, u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, st *bundle.Staging, batch []UserRequest, opts AddOptions) ([]AddResult, error) {
	var res []AddResult
	err := a.retry(ctx, "batch", func() error {
		var err error
		res, err = a.tryBatch(ctx, u, tmpl, servers, st, batch, opts)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	return res, err
}

// tryBatch onboards one batch in the order that keeps every signed
// certificate on record: sign in memory; record the new certificates as
// pending; only then write keys to the disk (staged); then hand them out
// in one transaction (active, old ones revoked, audit, CRL); then move the
// bundles into place. A run killed after recording leaves pending rows that
// reapAbandoned revokes; one that fails before handing out forgets them.
func (a *Authority) tryBatch(ctx context.Context, u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, st *bundle.Staging, batch []UserRequest, opts AddOptions) ([]AddResult, error) {
	start := a.now()
	plans, err := a.planBatch(ctx, u, tmpl, servers, batch, opts)
	if err != nil {
		return nil, err
	}
	var pending []string
	if st != nil {
		for _, p := range plans {
			if p.issued {
				pending = append(pending, p.cert.Serial)
			}
		}
		if err := a.recordPending(ctx, plans, len(pending)); err != nil {
			return nil, err
		}
	}
	undo := func() {
		for _, p := range plans {
			if p.staged != nil {
				p.staged.Abort()
			}
		}
		a.forgetPending(ctx, pending)
	}
	if st != nil {
		if err := a.stageBatch(st, plans, start); err != nil {
			undo()
			return nil, err
		}
	}
	revoked := false
	err = a.txOnce(ctx, func(q *store.Queries) error {
		for _, p := range plans {
			if err := a.record(ctx, q, p, st != nil); err != nil {
				return err
			}
			if p.issued && p.unrefuses {
				if err := a.recordChange(ctx, q, ChangeReinstate, p.user.Name, map[string]any{"serial": p.cert.Serial}); err != nil {
					return err
				}
			}
			revoked = revoked || p.revokes
		}
		if err := a.grantAccess(ctx, q, batch); err != nil {
			return err
		}
		if revoked {
			_, err := a.signCRL(ctx, q, u)
			return err
		}
		return nil
	})
	if err != nil {
		undo()
		return nil, err
	}
	return a.handOut(ctx, plans, revoked, opts, start)
}

// recordPending records the batch's new certificates as pending, in one
// transaction, before any of their keys is written to the disk. A batch
// that issues nothing (bundles rewritten for kept certificates) skips it.
func (a *Authority) recordPending(ctx context.Context, plans []planned, n int) error {
	if n == 0 {
		return nil
	}
	return a.txOnce(ctx, func(q *store.Queries) error {
		for _, p := range plans {
			if p.issued {
				c := p.cert
				c.State = store.StatePending
				if err := q.InsertCert(ctx, c); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// planBatch signs each user's certificate and renders the bundle, in
// memory, in parallel.
func (a *Authority) planBatch(ctx context.Context, u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, batch []UserRequest, opts AddOptions) ([]planned, error) {
	names := make([]string, len(batch))
	for i, r := range batch {
		names[i] = r.Name
	}
	existing, err := a.db.Q().ListUsers(ctx, store.UserFilter{Names: names, WithKeys: true})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.UserCert, len(existing))
	for _, e := range existing {
		byName[e.Name] = e
	}
	plans := make([]planned, len(batch))
	errs := make([]error, len(batch))
	now := a.now()
	parallel(len(batch), func(i int) {
		plans[i], errs[i] = a.plan(u, tmpl, servers, batch[i], byName[batch[i].Name], opts, now)
	})
	return plans, errors.Join(errs...)
}

// stageBatch writes the planned bundles into the staging folder.
func (a *Authority) stageBatch(st *bundle.Staging, plans []planned, now time.Time) error {
	errs := make([]error, len(plans))
	parallel(len(plans), func(i int) {
		p := &plans[i]
		if p.files != nil {
			p.staged, errs[i] = st.Stage(p.user.Name, p.files, now)
		}
	})
	return errors.Join(errs...)
}

// handOut moves committed bundles into place and publishes the CRL.
func (a *Authority) handOut(ctx context.Context, plans []planned, revoked bool, opts AddOptions, start time.Time) ([]AddResult, error) {
	var staged []*bundle.Staged
	res := make([]AddResult, len(plans))
	for i, p := range plans {
		if p.staged != nil {
			staged = append(staged, p.staged)
		}
		res[i] = AddResult{User: p.user.Name, Serial: p.cert.Serial, Issued: p.issued, Reinstated: p.reinstated,
			Expires: p.cert.NotAfter, Dir: opts.OutDir}
	}
	if a.opts.Observe != nil {
		each := a.now().Sub(start) / time.Duration(len(plans))
		for _, p := range plans {
			if p.issued {
				a.opts.Observe("issue", each, nil)
			}
		}
	}
	if revoked {
		if _, err := a.publishCRL(ctx); err != nil {
			a.log.Error("publishing CRL", "err", err)
		}
	}
	if err := bundle.Commit(staged); err != nil {
		return res, fmt.Errorf("certificates issued, but writing bundles failed (run the command again to rewrite them): %w", err)
	}
	return res, nil
}

// forgetPending deletes the pending rows of a batch that did not hand its
// certificates out. Their keys never left this process (staged files were
// removed); should the delete fail, reapAbandoned revokes them later.
func (a *Authority) forgetPending(ctx context.Context, serials []string) {
	if len(serials) == 0 {
		return
	}
	err := a.withRetry(context.WithoutCancel(ctx), func(q *store.Queries) error { return q.DeletePending(ctx, serials) })
	if err != nil {
		a.log.Warn("forgetting pending certificates; they will be revoked as abandoned", "count", len(serials), "err", err)
	}
}

// plan does one user's CPU work: key, certificate, bundle rendered.
func (a *Authority) plan(u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, r UserRequest, cur store.UserCert, opts AddOptions, now time.Time) (planned, error) {
	p := planned{user: mergeUser(r, cur, now)}
	if c := cur.Cert; c != nil && c.State == store.StateRevoked && !opts.Reinstate {
		// Checked up front too; here it holds when a revocation commits
		// between that check and this (re)try of the batch.
		return p, revokedError(revokedLine(cur))
	}
	if c := cur.Cert; c != nil && c.State == store.StateActive {
		old := *c
		p.old = &old
		valid := c.NotAfter.After(now)
		if valid && !opts.NewKey && len(c.KeySealed) > 0 {
			k, err := u.sealer.Open(c.KeySealed, keyLabel(store.KindClient, r.Name, c.Serial))
			if err != nil {
				return p, fmt.Errorf("opening key of %s: %w", r.Name, err)
			}
			p.cert, p.keyPEM, p.old = *c, k, nil
		} else {
			p.revokes = valid
		}
	}
	p.reinstated = cur.Cert != nil && cur.Cert.State == store.StateRevoked
	p.unrefuses = cur.Name != "" && (cur.Cert == nil || cur.Cert.State != store.StateActive)
	if p.keyPEM == nil {
		key, err := pki.GenerateKey(pki.AlgoOf(u.ca.Key.Public()))
		if err != nil {
			return p, err
		}
		if p.cert, p.keyPEM, err = a.issue(u, pki.Client, r.Name, key, opts.Days); err != nil {
			return p, err
		}
		p.issued = true
	}
	if opts.NoBundles {
		return p, nil
	}
	var err error
	p.files, err = a.render(u, tmpl, servers, p.user, p.cert, p.keyPEM)
	return p, err
}

// record hands one planned user's certificate out in transaction q: a
// pending one becomes active (or, with nothing staged, is inserted
// active), the one it replaces is ended.
func (a *Authority) record(ctx context.Context, q *store.Queries, p planned, wasPending bool) error {
	if err := q.UpsertUser(ctx, p.user); err != nil {
		return err
	}
	if !p.issued {
		return a.audit(ctx, q, "user.bundle", p.user.Name, map[string]any{"serial": p.cert.Serial})
	}
	if p.old != nil {
		state, reason := store.StateSuperseded, ""
		if p.revokes {
			state, reason = store.StateRevoked, pki.Superseded.String()
		}
		if err := q.EndCert(ctx, p.old.Serial, state, a.now().Unix(), reason); err != nil {
			return err
		}
	}
	var err error
	if wasPending {
		err = q.ActivateCert(ctx, p.cert.Serial)
	} else {
		err = q.InsertCert(ctx, p.cert)
	}
	if err != nil {
		return err
	}
	if err := q.SetCurrentSerial(ctx, p.user.Name, p.cert.Serial); err != nil {
		return err
	}
	detail := map[string]any{"serial": p.cert.Serial, "os": p.user.OS, "lang": p.user.Lang}
	if p.old != nil {
		detail["replaces"] = p.old.Serial
	}
	if p.reinstated {
		if err := a.audit(ctx, q, "user.reinstate", p.user.Name, map[string]any{"serial": p.cert.Serial}); err != nil {
			return err
		}
	}
	return a.audit(ctx, q, "user.issue", p.user.Name, detail)
}
