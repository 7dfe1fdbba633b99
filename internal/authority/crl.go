package authority

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// crlBackdate is how far before its signing a CRL's thisUpdate lies: a
// server whose clock is a little behind would otherwise refuse every
// client ("CRL is not yet valid").
const crlBackdate = 5 * time.Minute

// crlMaxAge is the age at which SyncCRL signs the CRL again: serve keeps a
// CRL at most a day old, so its nextUpdate stays CRLDays away.
const crlMaxAge = 24 * time.Hour

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
	this, next := now.Add(-crlBackdate), now.AddDate(0, 0, a.opts.CRLDays)
	der, err := u.ca.CreateCRL(n, entries, this, next)
	if err != nil {
		return store.CRL{}, err
	}
	c := store.CRL{Number: n, DER: der, ThisUpdate: this, NextUpdate: next}
	if err := q.SaveCRL(ctx, c); err != nil {
		return store.CRL{}, err
	}
	return c, a.recordChange(ctx, q, ChangeCRL, strconv.FormatInt(n, 10), map[string]any{"revoked": len(entries)})
}

// RefreshCRL re-signs the CRL now and writes it everywhere vpnkeys put one
// on this machine.
func (a *Authority) RefreshCRL(ctx context.Context) (CRLInfo, error) {
	u, err := a.ca()
	if err != nil {
		return CRLInfo{}, err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
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
// to every server folder recorded for this host, where it differs from what
// is there. The database is read again so a process that lost a race still
// writes the newest CRL, never an older one. A folder OpenVPN could not
// read the file from after dropping privileges is logged as an error.
// Their client-config files follow too (publishCCD).
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
		} else if _, err := writeCRL(filepath.Join(a.opts.DataDir, "crl.pem"), info.PEM); err != nil {
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
		p := filepath.Join(o.Dir, "crl.pem")
		wrote, err := writeCRL(p, info.PEM)
		if err != nil {
			errs = append(errs, fmt.Errorf("refreshing CRL of server %s: %w", o.Server, err))
			continue
		}
		if wrote {
			a.log.Info("crl.pem refreshed", "server", o.Server, "dir", o.Dir, "number", info.Number)
		}
		if err := refreshRevokedSerials(o.Dir, info.PEM); err != nil {
			errs = append(errs, fmt.Errorf("refreshing revoked serials of server %s: %w", o.Server, err))
		}
		if err := CheckServerDir(o.Dir); err != nil {
			a.log.Error("server folder unreadable for OpenVPN", "server", o.Server, "err", err)
		}
	}
	a.publishCCD(ctx)
	return info, errors.Join(errs...)
}

// writeCRL replaces path with pem unless it holds it already, and makes
// sure the file's mtime moves: OpenVPN reloads crl-verify only when the
// size or the mtime (in seconds) changed, and a new CRL of the same size
// written within the same second would otherwise be skipped.
func writeCRL(path string, pem []byte) (bool, error) {
	old, statErr := os.Stat(path)
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, pem) {
		return false, nil
	}
	if err := safefile.WriteFile(path, pem, safefile.PublicMode); err != nil {
		return false, err
	}
	if statErr != nil || old.Size() != int64(len(pem)) {
		return true, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return true, err
	}
	if fi.ModTime().Unix() <= old.ModTime().Unix() {
		next := old.ModTime().Truncate(time.Second).Add(time.Second)
		if err := os.Chtimes(path, next, next); err != nil {
			return true, fmt.Errorf("touching %s: %w", path, err)
		}
	}
	return true, nil
}

// SyncCRL makes sure every server folder vpnkeys wrote on this machine
// holds the newest CRL, and re-signs it first when it is stale (crlStale:
// a day old, or past two thirds of its lifetime). serve runs it
// periodically, so the CRL never lapses, and a revocation whose process
// died after its commit, or a folder restored from a backup, is repaired
// without anyone noticing. Agents get the new CRL as a change.
func (a *Authority) SyncCRL(ctx context.Context) (CRLInfo, error) {
	c, err := a.db.Q().GetCRL(ctx)
	if err != nil {
		return CRLInfo{}, err
	}
	if crlStale(c, a.now()) {
		if _, err := a.ca(); err == nil {
			return a.RefreshCRL(ctx)
		}
	}
	return a.publishCRL(ctx)
}

// crlStale tells whether c is due to be signed again at now: it is
// crlMaxAge old, or past two thirds of its lifetime (whichever comes
// first: a CRL of less than a day and a half is renewed by the latter).
func crlStale(c store.CRL, now time.Time) bool {
	life := c.NextUpdate.Sub(c.ThisUpdate)
	return !now.Before(c.ThisUpdate.Add(crlMaxAge)) || now.After(c.NextUpdate.Add(-life/3))
}

// KeepCRL runs SyncCRL now and then every interval until ctx ends,
// logging failures: a server folder that missed a revocation gets the
// newest CRL within one interval.
func (a *Authority) KeepCRL(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if info, err := a.SyncCRL(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("keeping server folders' crl.pem current", "err", err, "crl", info.Number)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
