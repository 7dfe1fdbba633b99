package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestRenewCA: a CA certificate renewed with the same key keeps subject
// and key identifier; a leaf signed before the renewal, and one signed
// with the renewed certificate after it, verify under the new certificate
// alone, the old one alone, and both (crypto/x509 and openssl), and a CRL
// signed by the key verifies under both.
func TestRenewCA(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	for _, algo := range []Algo{P256, RSA2048, Ed25519} {
		t.Run("ok/"+string(algo), func(t *testing.T) {
			now := time.Now()
			old := newCA(t, algo)
			key, _ := GenerateKey(algo)
			before, err := old.Issue(Leaf{Role: Client, CommonName: "alice", PublicKey: key.Public(), Days: 20, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			next, err := old.Renew(400, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := SameCA(old.Cert, next); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(next.RawSubject, old.Cert.RawSubject) || !bytes.Equal(next.SubjectKeyId, old.Cert.SubjectKeyId) ||
				next.SerialNumber.Cmp(old.Cert.SerialNumber) == 0 || !next.NotAfter.After(old.Cert.NotAfter) {
				t.Fatalf("renewed: subject, key id, serial or end wrong: %v %x %v", next.Subject, next.SubjectKeyId, next.NotAfter)
			}
			renewed := &CA{Cert: next, Key: old.Key}
			after, err := renewed.Issue(Leaf{Role: Server, CommonName: "dc1", PublicKey: key.Public(), Days: 600, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !after.NotAfter.After(old.Cert.NotAfter) {
				t.Fatalf("leaf signed with the renewed certificate ends %v, want after the old CA's end %v", after.NotAfter, old.Cert.NotAfter)
			}
			at := now.Add(time.Minute)
			roots := map[string][]*x509.Certificate{"new": {next}, "old": {old.Cert}, "both": {old.Cert, next}}
			dir := t.TempDir()
			for name, certs := range roots {
				pool := x509.NewCertPool()
				var pemText []byte
				for _, c := range certs {
					pool.AddCert(c)
					pemText = append(pemText, CertPEM(c)...)
				}
				caFile := write(t, dir, name+".pem", pemText)
				for leafName, leaf := range map[string]*x509.Certificate{"before": before, "after": after} {
					_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
					if err != nil {
						t.Errorf("leaf %s under %s: %v", leafName, name, err)
					}
					lf := write(t, dir, leafName+".pem", CertPEM(leaf))
					out, err := exec.Command(openssl, "verify", "-CAfile", caFile, lf).CombinedOutput()
					if err != nil || !strings.Contains(string(out), ": OK") {
						t.Errorf("openssl verify %s under %s: %v %s", leafName, name, err, out)
					}
				}
			}
			der, err := renewed.CreateCRL(3, nil, now, now.AddDate(0, 0, 30))
			if err != nil {
				t.Fatal(err)
			}
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []*x509.Certificate{old.Cert, next} {
				if err := crl.CheckSignatureFrom(c); err != nil {
					t.Errorf("CRL under the %v certificate: %v", c.SerialNumber, err)
				}
			}
		})
	}
	t.Run("fail/another key", func(t *testing.T) {
		a, b := newCA(t, P256), newCA(t, P256)
		if err := SameCA(a.Cert, b.Cert); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
}
