package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// renewed is the answer to a renewal.
type renewed struct {
	status int
	pair   *tls.Certificate // the new pair, on 200
}

// renew posts a renewal for server with cert over real TLS; csr nil makes
// a new P-256 key and its CSR.
func (e *agentEnv) renew(t *testing.T, cert *tls.Certificate, server string, csr []byte) renewed {
	t.Helper()
	var key *ecdsa.PrivateKey
	if csr == nil {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		var err error
		if csr, err = x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := json.Marshal(agentwire.RenewRequest{CSR: csr})
	resp, err := e.client(cert).Post(e.url+agentwire.RenewPath(server), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := renewed{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK || key == nil {
		return out
	}
	var res agentwire.JoinResponse
	if err := json.Unmarshal(b, &res); err != nil || res.Server != server {
		t.Fatalf("renewal answer %s: %v", b, err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pair, err := tls.X509KeyPair(res.Cert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatalf("the renewed certificate does not go with the new key: %v", err)
	}
	out.pair = &pair
	return out
}

// TestAgentRenew: over serve's agent listener, the current agent of a
// server renews its certificate; the new one is admitted, the old one
// refused at once (403). Only the current agent certificate of the
// path's server may renew: the replaced one, another server's agent, a
// VPN user and no certificate get 403, audited. A CSR that does not
// parse or whose key is not allowed is 400, and nothing is issued.
func TestAgentRenew(t *testing.T) {
	e := newAgentEnv(t)
	dc1 := e.join(t, e.enroll(t, "dc1"))
	dc2 := e.join(t, e.enroll(t, "dc2"))
	alice := e.userCert(t, "alice")
	if dc1.pair == nil || dc2.pair == nil {
		t.Fatal("a join failed")
	}
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	shortCSR, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, short)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		csr  []byte
	}{
		{"fail/CSR does not parse", []byte("not a CSR")},
		{"fail/no CSR", []byte{}},
		{"fail/RSA 1024", shortCSR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.renew(t, dc1.pair, "dc1", tc.csr); got.status != http.StatusBadRequest {
				t.Errorf("got %d, want 400", got.status)
			}
		})
	}
	if n := e.audits(t, "agent.renew", ""); n != 0 {
		t.Errorf("agent.renew events after bad requests: got %d, want 0", n)
	}
	if got := e.get(t, dc1.pair, "dc1"); !admitted(got) {
		t.Errorf("dc1's agent after bad renewals: got %d, want it still admitted (nothing issued)", got)
	}

	got := e.renew(t, dc1.pair, "dc1", nil)
	if got.status != http.StatusOK || got.pair == nil {
		t.Fatalf("ok/renew: got %d, want 200 and a new pair", got.status)
	}
	if n := e.audits(t, "agent.renew", ""); n != 1 {
		t.Errorf("agent.renew events: got %d, want 1", n)
	}
	if st := e.get(t, got.pair, "dc1"); !admitted(st) {
		t.Errorf("the renewed certificate: got %d, want it admitted", st)
	}
	for _, tc := range []struct {
		name, reason, server string
		cert                 *tls.Certificate
	}{
		{"fail/replaced certificate", "superseded", "dc1", dc1.pair},
		{"fail/other server's agent", "wrong server", "dc1", dc2.pair},
		{"fail/vpn user", "not an agent", "dc1", alice},
		{"fail/no certificate", "no certificate", "dc1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r renewed
			e.refused(t, "agent.refused", tc.reason, func() { r = e.renew(t, tc.cert, tc.server, nil) })
			if r.status != http.StatusForbidden {
				t.Errorf("renewal: got %d, want 403", r.status)
			}
		})
	}
	t.Run("fail/replaced certificate asks for state", func(t *testing.T) {
		if st := e.get(t, dc1.pair, "dc1"); st != http.StatusForbidden {
			t.Errorf("got %d, want 403", st)
		}
	})
	if n := e.audits(t, "agent.renew", ""); n != 1 {
		t.Errorf("agent.renew events after refusals: got %d, want 1", n)
	}
}
