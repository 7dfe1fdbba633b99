package authority

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ServerRenewInterval is how often serve looks for server certificates
// due for renewal (RenewServerCerts).
const ServerRenewInterval = time.Hour

// RenewServerCerts issues a new certificate to every server whose
// certificate ends within renewBefore (30 days, or a third of a short
// lifetime), or that has none, and returns their names. Each renewal
// supersedes the old certificate, is audited (server.renew) and recorded
// in the outbox in its transaction, so every agent gets the new
// server.crt and server.key at once (and restarts OpenVPN in its restart
// window). Nothing renders a server's files while nothing changes, so
// without this an idle server's certificate would run out; serve runs it
// at start and every ServerRenewInterval. Two instances racing on one
// database issue one certificate per server: the one-active index lets
// only one insert win, and the loser reads the winner's certificate,
// which is no longer due.
func (a *Authority) RenewServerCerts(ctx context.Context) (renewed []string, err error) {
	if err := a.followCA(ctx); err != nil { // a rollover another process started or finished
		return nil, err
	}
	u, err := a.ca()
	if err != nil {
		return nil, err
	}
	servers, err := a.db.Q().ListServers(ctx)
	if err != nil {
		return nil, err
	}
	for _, srv := range servers {
		if err := ctxDone(ctx); err != nil {
			return renewed, err
		}
		issued := false
		err := a.retry(ctx, "server certificate renewal", func() error {
			cur, err := a.db.Q().ActiveCert(ctx, store.KindServer, srv.Name)
			if err == nil && !serverCertDue(cur, a.now()) {
				return nil
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			_, _, err = a.replaceServerCert(ctx, u, srv, cur)
			issued = err == nil
			return err
		})
		if err != nil {
			return renewed, fmt.Errorf("renewing the certificate of %s: %w", srv.Name, err)
		}
		if issued {
			renewed = append(renewed, srv.Name)
			a.log.InfoContext(ctx, "server certificate renewed", "server", srv.Name)
		}
	}
	return renewed, nil
}

// KeepServerCerts runs RenewServerCerts now and every interval until ctx
// ends (serve), logging what fails.
func (a *Authority) KeepServerCerts(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.RenewServerCerts(ctx); err != nil && ctx.Err() == nil {
			a.log.ErrorContext(ctx, "renewing server certificates", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serverCertDue tells whether a server certificate is to be renewed now.
func serverCertDue(c store.Cert, now time.Time) bool {
	return !c.NotAfter.After(now.Add(renewBefore(c)))
}

// replaceServerCert issues srv a new certificate and key, superseding cur
// (none when its Serial is ""), in one transaction with its audit event
// (server.issue for a first one, server.renew for a renewal) and an
// outbox change. A race lost to another process gives store.ErrConflict:
// the caller retries from reading the current certificate.
func (a *Authority) replaceServerCert(ctx context.Context, u *unlockedCA, srv store.Server, cur store.Cert) (certPEM, keyPEM []byte, err error) {
	key, err := pki.GenerateKey(pki.AlgoOf(u.ca.Key.Public()))
	if err != nil {
		return nil, nil, err
	}
	c, keyPEM, err := a.issue(u, pki.Server, srv.Name, key, cmp.Or(srv.CertDays, a.opts.LeafDays))
	if err != nil {
		return nil, nil, err
	}
	action, detail := "server.issue", map[string]any{"serial": c.Serial}
	if cur.Serial != "" {
		action, detail["superseded"] = "server.renew", cur.Serial
		detail["not_after"] = c.NotAfter.UTC().Format(time.RFC3339)
	}
	err = a.txOnce(ctx, func(q *store.Queries) error {
		if cur.Serial != "" {
			if err := q.EndCert(ctx, cur.Serial, store.StateSuperseded, a.now().Unix(), ""); err != nil {
				return err
			}
		}
		if err := q.InsertCert(ctx, c); err != nil {
			return err
		}
		if err := a.audit(ctx, q, action, srv.Name, detail); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeServer, srv.Name, map[string]any{"op": "cert", "serial": c.Serial})
	})
	if err != nil {
		return nil, nil, err
	}
	return []byte(c.CertPEM), keyPEM, nil
}
