package agent

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// The CA pinned at join is the agent's only root. A CA rollover (`vpnkeys
// ca rollover`) renews the CA's certificate with the same key and subject;
// the server's ca.crt in the state then holds the renewed one. The agent
// adds it to its roots (CAFile) when, and only when, it is a renewal of a
// root it trusts: the same subject, the same public key, self-signed. That
// grants no new trust (the same key signs), and keeps the agent talking
// to the control plane once the old certificate has expired.

// certsOf parses every certificate in PEM text, skipping what does not
// parse.
func certsOf(b []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// renews tells whether c is a renewal of root: same subject and key, and
// self-signed.
func renews(c, root *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, root.RawSubject) &&
		bytes.Equal(c.RawSubjectPublicKeyInfo, root.RawSubjectPublicKeyInfo) &&
		c.CheckSignatureFrom(c) == nil
}

// adoptRenewedCA adds to stateDir's CAFile every certificate of st's
// ca.crt that renews one of its roots and is not there yet, and reports
// whether it added any.
func adoptRenewedCA(stateDir string, st agentwire.State) (bool, error) {
	var offered []*x509.Certificate
	for _, f := range st.Files {
		if f.Name == "ca.crt" {
			offered = certsOf(f.Data)
		}
	}
	path := filepath.Join(stateDir, CAFile)
	cur, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", CAFile, err)
	}
	roots := certsOf(cur)
	out, added := cur, false
	for _, c := range offered {
		known, renewal := false, false
		for _, r := range roots {
			known = known || bytes.Equal(c.Raw, r.Raw)
			renewal = renewal || renews(c, r)
		}
		if known || !renewal {
			continue
		}
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		roots, added = append(roots, c), true
	}
	if !added {
		return false, nil
	}
	if err := safefile.WriteFile(path, out, safefile.PublicMode); err != nil {
		return false, fmt.Errorf("adding the renewed CA certificate to %s: %w", CAFile, err)
	}
	return true, nil
}

// rootPool is the pool of every certificate in stateDir's CAFile.
func rootPool(stateDir string) (*x509.CertPool, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", CAFile, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certsOf(b) {
		pool.AddCert(c)
	}
	return pool, nil
}

// reloadRoots makes the client trust every root in stateDir's CAFile from
// its next connection on.
func (c *Client) reloadRoots(stateDir string) error {
	pool, err := rootPool(stateDir)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.hc
	tr := old.Transport.(*http.Transport).Clone()
	tc := tr.TLSClientConfig.Clone()
	tc.RootCAs = pool
	tr.TLSClientConfig = tc
	c.hc = &http.Client{Transport: tr, CheckRedirect: old.CheckRedirect}
	old.CloseIdleConnections()
	return nil
}

// httpClient is the client's current HTTP client.
func (c *Client) httpClient() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hc
}

// adoptCA is adoptRenewedCA for the running agent: a renewed root is
// trusted at once.
func (r *runner) adoptCA(st agentwire.State) {
	added, err := adoptRenewedCA(r.cfg.StateDir, st)
	if err == nil && added {
		err = r.client.reloadRoots(r.cfg.StateDir)
		r.log.Info("trusting the CA's renewed certificate (same key)")
	}
	if err != nil {
		r.log.Error("adding the CA's renewed certificate", "err", err)
	}
}
