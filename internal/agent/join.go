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
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// joinTimeout bounds the whole join exchange.
const joinTimeout = 30 * time.Second

// maxBody bounds what the agent reads of any answer (a state carries the
// server's files, a few kilobytes each).
const maxBody = 16 << 20

// Join enrolls this host's agent: it makes a P-256 key here (the key
// never leaves the host), sends a certificate request with the token's
// secret to the control plane at rawURL, trusting it only if the CA it
// presents has the token's fingerprint, and writes agent.key (0600),
// agent.crt, ca.crt and agent.json into stateDir (0700). Nothing is
// written unless the control plane issued a certificate. The token is
// never logged nor put in an error.
func Join(ctx context.Context, rawURL, token, stateDir string, log *slog.Logger) (Identity, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if stateDir == "" {
		return Identity{}, fmt.Errorf("%w: no state folder given", ErrInvalid)
	}
	u, err := ParseURL(rawURL)
	if err != nil {
		return Identity{}, err
	}
	fp, secret, err := agentwire.ParseToken(token)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Identity{}, fmt.Errorf("making agent key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "vpnkeys agent"}}, key)
	if err != nil {
		return Identity{}, fmt.Errorf("making certificate request: %w", err)
	}
	body, _ := json.Marshal(agentwire.JoinRequest{Secret: secret, CSR: csr})
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: pinnedConfig(fp, hostOf(u)), ForceAttemptHTTP2: true}, CheckRedirect: noRedirect}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+agentwire.PathJoin, bytes.NewReader(body))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/json")
	log.Info("joining", "url", u.String())
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrPin) {
			return Identity{}, fmt.Errorf("joining %s: %w", u.Host, ErrPin)
		}
		return Identity{}, fmt.Errorf("joining %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Identity{}, fmt.Errorf("joining %s: %w", u.Host, answerError(resp))
	}
	var jr agentwire.JoinResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&jr); err != nil {
		return Identity{}, fmt.Errorf("joining %s: reading answer: %w", u.Host, err)
	}
	if err := checkJoin(jr, fp, key); err != nil {
		return Identity{}, fmt.Errorf("joining %s: %w", u.Host, err)
	}
	id := Identity{URL: u.String(), Server: jr.Server}
	if err := writeIdentity(stateDir, id, key, jr); err != nil {
		return Identity{}, err
	}
	log.Info("joined", "server", id.Server, "state", stateDir)
	return id, nil
}

// noRedirect keeps every request on the URL the agent was given.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// pinnedConfig trusts a TLS server only if its chain holds a certificate
// whose SHA-256 is fp (the CA of the join token) and the leaf verifies
// against that certificate alone for host.
func pinnedConfig(fp []byte, host string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection's pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			var root *x509.Certificate
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates {
				if agentwire.SameFingerprint(agentwire.Fingerprint(c.Raw), fp) {
					root = c
				} else {
					inter.AddCert(c)
				}
			}
			if root == nil || len(cs.PeerCertificates) == 0 {
				return ErrPin
			}
			roots := x509.NewCertPool()
			roots.AddCert(root)
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
			if err != nil {
				return fmt.Errorf("%w: %w", ErrPin, err)
			}
			return nil
		},
	}
}

// checkJoin checks the control plane's answer: the CA is the pinned one,
// and the certificate is for our key and signed by it.
func checkJoin(jr agentwire.JoinResponse, fp []byte, key *ecdsa.PrivateKey) error {
	if !validServer(jr.Server) {
		return fmt.Errorf("%w: answer names no valid server", ErrRefused)
	}
	ca, err := parseCertPEM(jr.CA)
	if err != nil || !agentwire.SameFingerprint(agentwire.Fingerprint(ca.Raw), fp) {
		return ErrPin
	}
	cert, err := parseCertPEM(jr.Cert)
	if err != nil {
		return fmt.Errorf("reading agent certificate: %w", err)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("agent certificate not signed by the pinned CA: %w", err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return errors.New("agent certificate is not for the key sent")
	}
	return nil
}

// writeIdentity writes the state folder, each file atomically; the key
// last but one and agent.json last, so a folder with agent.json is whole.
func writeIdentity(dir string, id Identity, key *ecdsa.PrivateKey, jr agentwire.JoinResponse) error {
	if err := safefile.MkdirAll(dir); err != nil {
		return err
	}
	if err := os.Chmod(dir, safefile.DirMode); err != nil {
		return fmt.Errorf("securing %s: %w", dir, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding agent key: %w", err)
	}
	idJSON, _ := json.MarshalIndent(id, "", "  ")
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, jr.CA, safefile.PublicMode},
		{CertFile, jr.Cert, safefile.PublicMode},
		{KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), safefile.SecretMode},
		{IdentityFile, append(idJSON, '\n'), safefile.SecretMode},
	} {
		if err := safefile.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// parseCertPEM reads the first certificate of a PEM text.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// answerError turns an error answer of the control plane (the API's
// {"error":{"code","message"}}) into one line, keeping its kind.
func answerError(resp *http.Response) error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := resp.Status
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		msg = fmt.Sprintf("%s (HTTP %d)", body.Error.Message, resp.StatusCode)
	}
	kind := fault.Upstream
	switch {
	case resp.StatusCode == http.StatusBadRequest:
		kind = fault.Invalid
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		kind = fault.Unauthorized
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusConflict, resp.StatusCode == http.StatusGone:
		kind = fault.Conflict
	}
	return fault.Wrap(kind, "refused", nil, "%s: %s", ErrRefused.Error(), msg)
}
