package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// The agent renews its own certificate before it ends: when less than a
// third of its lifetime is left, or 30 days, whichever comes later, it
// makes a new key, asks the control plane for a certificate for it
// (agentwire.RenewPath, with the current certificate), writes the new
// pair to its state folder and uses it from the next connection on. The
// control plane revokes the old certificate as it issues the new one.
//
// The pair is replaced so that a crash at any point leaves agent.key and
// agent.crt a matching pair: the new key and certificate are first
// written whole under new names (agent.key.new, then agent.crt.new),
// then renamed, the key first. At start (finishRenewal) a complete .new
// certificate that goes with the new key, or with agent.key once that
// one was renamed, is renamed into place; else the previous pair stays.
// The new key is saved before it is sent, and used again by the next
// attempt, so an answer lost on the way is asked for again and the
// control plane sends the same certificate (the old one is revoked by
// then).
const (
	renewFraction = 3                   // renew with a third of the lifetime left...
	renewAhead    = 30 * 24 * time.Hour // ...or 30 days, whichever is less
	renewRetryMin = time.Minute         // backoff after a failed renewal
	renewRetryMax = time.Hour
	newKeyFile    = KeyFile + ".new"
	newCertFile   = CertFile + ".new"
)

// RenewDue is when the agent renews cert: a third of its lifetime, or 30
// days when that is less, before its end.
func RenewDue(cert *x509.Certificate) time.Time {
	ahead := min(cert.NotAfter.Sub(cert.NotBefore)/renewFraction, renewAhead)
	return cert.NotAfter.Add(-ahead)
}

// renewal is a new pair the control plane issued.
type renewal struct {
	keyPEM, certPEM []byte
	pair            tls.Certificate
}

// Leaf is the agent certificate in use.
func (c *Client) Leaf() (*x509.Certificate, error) {
	c.mu.Lock()
	p := c.pair
	c.mu.Unlock()
	if p.Leaf != nil {
		return p.Leaf, nil
	}
	return x509.ParseCertificate(p.Certificate[0])
}

// clientCert is the TLS client certificate: the pair in use now.
func (c *Client) clientCert(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pair, nil
}

// usePair makes every later request present p: connections opened with
// the previous certificate are left to the requests on them (a long-poll
// admitted before the renewal finishes) and never reused.
func (c *Client) usePair(p tls.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pair = &p
	old := c.hc
	tr := old.Transport.(*http.Transport).Clone()
	c.hc = &http.Client{Transport: tr, CheckRedirect: old.CheckRedirect}
	old.CloseIdleConnections()
}

// renew asks the control plane for a certificate for a new key, made
// here (pendingKey), and checks the answer: this server's, for that key,
// signed by a root in stateDir's CAFile. It changes nothing else: the
// caller saves the pair, then uses it.
func (c *Client) renew(ctx context.Context, stateDir string) (renewal, error) {
	key, keyPEM, err := pendingKey(stateDir)
	if err != nil {
		return renewal{}, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "vpnkeys agent"}}, key)
	if err != nil {
		return renewal{}, fmt.Errorf("making certificate request: %w", err)
	}
	body, _ := json.Marshal(agentwire.RenewRequest{CSR: csr})
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+agentwire.RenewPath(c.id.Server), bytes.NewReader(body))
	if err != nil {
		return renewal{}, fmt.Errorf("renewing: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return renewal{}, fmt.Errorf("renewing: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return renewal{}, fmt.Errorf("renewing: %w", answerError(resp))
	}
	var jr agentwire.JoinResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&jr); err != nil {
		return renewal{}, fmt.Errorf("renewing: reading answer: %w", err)
	}
	leaf, err := c.checkRenewal(stateDir, jr, key)
	if err != nil {
		return renewal{}, fmt.Errorf("renewing: %w", err)
	}
	rn := renewal{keyPEM: keyPEM, certPEM: jr.Cert}
	if rn.pair, err = tls.X509KeyPair(rn.certPEM, rn.keyPEM); err != nil {
		return renewal{}, fmt.Errorf("renewing: %w", err)
	}
	rn.pair.Leaf = leaf
	return rn, nil
}

// pendingKey is the key of the renewal under way: the one in
// agent.key.new when an attempt left it (its answer may have been lost:
// the control plane then sends the same certificate again), else a new
// P-256 key, saved there (0600) before it is ever sent.
func pendingKey(stateDir string) (*ecdsa.PrivateKey, []byte, error) {
	path := filepath.Join(stateDir, newKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
				if ek, ok := k.(*ecdsa.PrivateKey); ok {
					return ek, b, nil
				}
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("making agent key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding agent key: %w", err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := safefile.WriteFile(path, b, safefile.SecretMode); err != nil {
		return nil, nil, err
	}
	return key, b, nil
}

// checkRenewal checks a renewal's answer as checkJoin does a join's,
// against the roots the agent trusts, and returns the certificate.
func (c *Client) checkRenewal(stateDir string, jr agentwire.JoinResponse, key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	if jr.Server != c.id.Server {
		return nil, fmt.Errorf("%w: answer names server %q, not %q", ErrRefused, jr.Server, c.id.Server)
	}
	cert, err := parseCertPEM(jr.Cert)
	if err != nil {
		return nil, fmt.Errorf("reading agent certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("agent certificate is not for the key sent")
	}
	roots, err := os.ReadFile(filepath.Join(stateDir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", CAFile, err)
	}
	for _, root := range certsOf(roots) {
		if cert.CheckSignatureFrom(root) == nil {
			return cert, nil
		}
	}
	return nil, fmt.Errorf("%w: the renewed agent certificate is not signed by the pinned CA", ErrPin)
}

// installPair replaces stateDir's agent.key (0600) and agent.crt with a
// new pair, so that a crash at any point leaves a matching pair, or a
// state finishRenewal completes. The key is in agent.key.new already
// (pendingKey) unless it was renamed since.
func installPair(stateDir string, keyPEM, certPEM []byte) error {
	p := func(name string) string { return filepath.Join(stateDir, name) }
	if cur, err := os.ReadFile(p(newKeyFile)); err != nil || !bytes.Equal(cur, keyPEM) {
		if err := safefile.WriteFile(p(newKeyFile), keyPEM, safefile.SecretMode); err != nil {
			return err
		}
	}
	if err := safefile.WriteFile(p(newCertFile), certPEM, safefile.PublicMode); err != nil {
		return err
	}
	return commitPair(stateDir)
}

// commitPair renames the new key (when still there) and then the new
// certificate into place.
func commitPair(stateDir string) error {
	p := func(name string) string { return filepath.Join(stateDir, name) }
	if err := os.Rename(p(newKeyFile), p(KeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("installing the renewed agent key: %w", err)
	}
	if err := os.Rename(p(newCertFile), p(CertFile)); err != nil {
		return fmt.Errorf("installing the renewed agent certificate: %w", err)
	}
	return safefile.SyncDir(stateDir)
}

// finishRenewal completes, at start, a renewal a crash cut short: a new
// certificate that goes with the new key (or with agent.key, once the new
// key was renamed) is put in place; a new certificate that makes no pair
// is removed, and the previous pair stays. A new key without its
// certificate stays for the next attempt (pendingKey).
func finishRenewal(stateDir string) error {
	p := func(name string) string { return filepath.Join(stateDir, name) }
	if _, err := os.Stat(p(newCertFile)); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", newCertFile, err)
	}
	key := p(newKeyFile)
	if _, err := os.Stat(key); errors.Is(err, fs.ErrNotExist) {
		key = p(KeyFile) // the new key is in place already
	}
	if _, err := tls.LoadX509KeyPair(p(newCertFile), key); err != nil {
		return removeIfThere(p(newCertFile))
	}
	return commitPair(stateDir)
}

func removeIfThere(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// renewLoop checks, every report interval, whether the agent certificate
// is due for renewal (by the injected clock), and renews it, with backoff
// after a failure. The error of the last attempt goes into the reports
// until one succeeds.
func (r *runner) renewLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.ReportInterval)
	defer t.Stop()
	var unsaved *renewal // issued and in use, not yet saved
	var next time.Time   // no attempt before (wall clock: backoff)
	delay := r.renewRetry()
	for {
		if time.Now().After(next) {
			done, err := r.renewOnce(ctx, &unsaved)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				wait := delay/2 + mrand.N(delay/2+1)
				next, delay = time.Now().Add(wait), min(2*delay, renewRetryMax)
				r.log.Error("agent certificate not renewed", "err", err, "retry_in", wait.Round(time.Second))
			} else {
				next, delay = time.Time{}, r.renewRetry()
			}
			r.setRenewErr(err)
			if done || err != nil {
				r.queueReport()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// renewRetry is the first backoff after a failed renewal.
func (r *runner) renewRetry() time.Duration {
	if r.cfg.renewRetry > 0 {
		return r.cfg.renewRetry
	}
	return renewRetryMin
}

// renewOnce saves a pair a previous attempt could not save, or renews
// the certificate when it is due, and tells whether it did either. The
// new pair is written before it is used; if it cannot be written, it is
// used all the same (the control plane revoked the old one) and saving it
// is retried.
func (r *runner) renewOnce(ctx context.Context, unsaved **renewal) (bool, error) {
	if *unsaved != nil {
		if err := installPair(r.cfg.StateDir, (*unsaved).keyPEM, (*unsaved).certPEM); err != nil {
			return false, fmt.Errorf("%w: %w", errUnsaved, err)
		}
		*unsaved = nil
		r.log.Info("renewed agent certificate saved")
		return true, nil
	}
	leaf, err := r.client.Leaf()
	if err != nil {
		return false, fmt.Errorf("reading agent certificate: %w", err)
	}
	now := time.Now()
	if r.cfg.Now != nil {
		now = r.cfg.Now()
	}
	if now.Before(RenewDue(leaf)) {
		return false, nil
	}
	r.log.Info("renewing agent certificate", "not_after", leaf.NotAfter)
	rn, err := r.client.renew(ctx, r.cfg.StateDir)
	if err != nil {
		return false, err
	}
	if err := installPair(r.cfg.StateDir, rn.keyPEM, rn.certPEM); err != nil {
		r.client.usePair(rn.pair)
		*unsaved = &rn
		return false, fmt.Errorf("%w: %w", errUnsaved, err)
	}
	r.client.usePair(rn.pair)
	r.log.Info("agent certificate renewed", "not_after", rn.pair.Leaf.NotAfter)
	return true, nil
}

// errUnsaved: the control plane issued a new pair, the agent uses it,
// but could not write it to its state folder.
var errUnsaved = errors.New("the renewed agent certificate is in use but not saved yet")

// setRenewErr records the last renewal's error for the reports.
func (r *runner) setRenewErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.renewErr = ""
		return
	}
	r.renewErr = err.Error()
}
