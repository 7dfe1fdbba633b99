package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// The self-test probes' client-config files are allowed beside users'.
func TestValidateProbeFiles(t *testing.T) {
	for name, ok := range map[string]bool{
		"ok/probe":            true,
		"ok/probe-revoked":    true,
		"fail/probe-no-name":  false,
		"fail/probe-bad-name": false,
		"fail/other-prefix":   false,
	} {
		t.Run(name, func(t *testing.T) {
			file := map[string]string{
				"ok/probe": "ccd/probe:dc1", "ok/probe-revoked": "ccd/probe-revoked:dc1", "fail/probe-no-name": "ccd/probe:",
				"fail/probe-bad-name": "ccd/probe:../x", "fail/other-prefix": "ccd/agent:dc1",
			}[name]
			st := simpleState("port 1194\n", "CRL")
			st.Hash = "h"
			st.Files = append(st.Files, agentwire.File{Name: file, Mode: 0o644, Data: []byte("ifconfig-push 10.8.0.254 255.255.255.0\n")})
			if err := Validate(st, "dc1"); (err == nil) != ok {
				t.Errorf("Validate with %s: got %v, want ok=%v", file, err, ok)
			}
		})
	}
}

// The agent's crl check reads the crl.pem OpenVPN reads.
func TestSelfTestCRLCheck(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour * 24 * 365), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	now := time.Now()
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(4), ThisUpdate: now, NextUpdate: now.Add(30 * 24 * time.Hour)}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "crl.pem"), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), 0o644)
	r := &runner{cfg: Config{Dir: dir}}
	st := agentwire.State{CRL: agentwire.CRL{Number: 4, ThisUpdate: now, NextUpdate: now.Add(30 * 24 * time.Hour)}}
	for name, tc := range map[string]struct {
		number int64
		ok     bool
		says   string
	}{
		"ok/newest":  {4, true, "#4 is the newest"},
		"fail/stale": {5, false, "the server holds #4 (crl.pem), the newest is #5"},
	} {
		t.Run(name, func(t *testing.T) {
			st.CRL.Number = tc.number
			c := r.crlCheck(st, now)
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.says) {
				t.Errorf("got %+v, want ok=%v saying %q", c, tc.ok, tc.says)
			}
		})
	}
	os.Remove(filepath.Join(dir, "crl.pem"))
	if c := r.crlCheck(st, now); c.OK || !strings.Contains(c.Detail, "reading crl.pem") {
		t.Errorf("without crl.pem: got %+v, want a failure saying so", c)
	}
}
