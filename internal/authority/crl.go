package authority

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// CRLInfo describes the current CRL.
type CRLInfo struct {
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	Revoked    int
	PEM        []byte
}

// signCRL re-signs the CRL inside transaction q: the number is reserved
// under the row lock first, so the list read after it includes every
// revocation committed before, and a higher number never lists less.
func (a *Authority) signCRL(ctx context.Context, q *store.Queries, u *unlockedCA) (store.CRL, error) {
	n, err := q.NextCRLNumber(ctx)
	if err != nil {
		return store.CRL{}, err
	}
	rows, err := q.Revoked(ctx)
	if err != nil {
		return store.CRL{}, err
	}
	entries := make([]pki.Revoked, 0, len(rows))
	for _, r := range rows {
		serial, err := pki.ParseSerialHex(r.Serial)
		if err != nil {
			return store.CRL{}, err
		}
		reason, _ := pki.ParseReason(r.Reason)
		entries = append(entries, pki.Revoked{Serial: serial, At: time.Unix(r.RevokedAt, 0), Reason: reason})
	}
	now := a.now()
	next := now.AddDate(0, 0, a.opts.CRLDays)
	der, err := u.ca.CreateCRL(n, entries, now, next)
	if err != nil {
		return store.CRL{}, err
	}
	c := store.CRL{Number: n, DER: der, ThisUpdate: now, NextUpdate: next}
	return c, q.SaveCRL(ctx, c)
}

// RefreshCRL re-signs the CRL now and writes it everywhere vpnkeys put one
// on this machine.
func (a *Authority) RefreshCRL(ctx context.Context) (CRLInfo, error) {
	u, err := a.ca()
	if err != nil {
		return CRLInfo{}, err
	}
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		c, err := a.signCRL(ctx, q, u)
		if err != nil {
			return err
		}
		return a.audit(ctx, q, "crl.sign", "crl", map[string]any{"number": c.Number})
	})
	if err != nil {
		return CRLInfo{}, err
	}
	return a.publishCRL(ctx)
}

// CRL returns the current CRL without signing anything.
func (a *Authority) CRL(ctx context.Context) (CRLInfo, error) {
	c, err := a.db.Q().GetCRL(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return CRLInfo{}, ErrNotInitialized
	}
	if err != nil {
		return CRLInfo{}, err
	}
	return crlInfo(c)
}

func crlInfo(c store.CRL) (CRLInfo, error) {
	info := CRLInfo{Number: c.Number, ThisUpdate: c.ThisUpdate, NextUpdate: c.NextUpdate, PEM: pki.CRLPEM(c.DER)}
	rl, err := x509.ParseRevocationList(c.DER)
	if err != nil {
		return CRLInfo{}, fmt.Errorf("parsing stored CRL: %w", err)
	}
	info.Revoked = len(rl.RevokedCertificateEntries)
	return info, nil
}

// publishCRL writes the newest CRL from the database to the data folder and
// to every server folder recorded for this host. The database is read again
// so a process that lost a race still writes the newest CRL, never an older
// one.
func (a *Authority) publishCRL(ctx context.Context) (CRLInfo, error) {
	c, err := a.db.Q().GetCRL(ctx)
	if err != nil {
		return CRLInfo{}, err
	}
	info, err := crlInfo(c)
	if err != nil {
		return CRLInfo{}, err
	}
	var errs []error
	if a.opts.DataDir != "" {
		if err := safefile.MkdirAll(a.opts.DataDir); err != nil {
			errs = append(errs, err)
		} else if err := safefile.WriteFile(filepath.Join(a.opts.DataDir, "crl.pem"), info.PEM, safefile.PublicMode); err != nil {
			errs = append(errs, err)
		}
	}
	outs, err := a.db.Q().ServerOutputs(ctx, a.opts.Hostname)
	if err != nil {
		errs = append(errs, err)
	}
	for _, o := range outs {
		if _, err := os.Stat(o.Dir); err != nil {
			a.log.Warn("server folder gone, CRL not written there", "server", o.Server, "dir", o.Dir)
			continue
		}
		if err := safefile.WriteFile(filepath.Join(o.Dir, "crl.pem"), info.PEM, safefile.PublicMode); err != nil {
			errs = append(errs, fmt.Errorf("refreshing CRL of server %s: %w", o.Server, err))
		}
	}
	return info, errors.Join(errs...)
}
