package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

func newCA(t testing.TB, a Algo) *CA {
	t.Helper()
	k, err := GenerateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewCA(k, "Test CA", 30, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func write(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIssue: every algorithm signs client and server certificates that
// openssl verifies, with the usages OpenVPN's remote-cert-tls checks.
func TestIssue(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	for _, a := range []Algo{P256, P384, Ed25519, RSA2048} {
		t.Run(string(a), func(t *testing.T) {
			ca := newCA(t, a)
			dir := t.TempDir()
			caFile := write(t, dir, "ca.pem", CertPEM(ca.Cert))
			for _, role := range []Role{Client, Server} {
				k, _ := GenerateKey(a)
				c, err := ca.Issue(Leaf{Role: role, CommonName: "alice", PublicKey: k.Public(), Now: time.Now(), Hosts: []string{"127.0.0.1", "vpn.example.com"}})
				if err != nil {
					t.Fatal(err)
				}
				leaf := write(t, dir, "leaf.pem", CertPEM(c))
				if out, err := exec.Command(openssl, "verify", "-CAfile", caFile, leaf).CombinedOutput(); err != nil {
					t.Fatalf("openssl verify: %v\n%s", err, out)
				}
				want := x509.ExtKeyUsageClientAuth
				if role == Server {
					want = x509.ExtKeyUsageServerAuth
					if len(c.IPAddresses) != 1 || !slices.Contains(c.DNSNames, "vpn.example.com") {
						t.Errorf("server hosts: %v %v", c.IPAddresses, c.DNSNames)
					}
				}
				if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != want || c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
					t.Errorf("role %d: usages %v %v", role, c.ExtKeyUsage, c.KeyUsage)
				}
				if (a == RSA2048) != (c.KeyUsage&x509.KeyUsageKeyEncipherment != 0) {
					t.Errorf("keyEncipherment on %s: %v", a, c.KeyUsage)
				}
				if c.NotAfter.After(ca.Cert.NotAfter) {
					t.Error("leaf outlives its CA")
				}
				if err := MatchesCert(k, c); err != nil {
					t.Error(err)
				}
			}
		})
	}
	if _, err := ParseAlgo("dsa"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParseAlgo(dsa): %v", err)
	}
}

func TestSerials(t *testing.T) {
	seen := map[string]bool{}
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for range 1000 {
		n, err := NewSerial()
		if err != nil || n.Sign() <= 0 || n.Cmp(limit) >= 0 {
			t.Fatalf("serial %v %v", n, err)
		}
		h := SerialHex(n)
		if len(h)%2 != 0 || strings.ToUpper(h) != h || seen[h] {
			t.Fatalf("serial hex %q (duplicate %v)", h, seen[h])
		}
		seen[h] = true
		back, err := ParseSerialHex(h)
		if err != nil || back.Cmp(n) != 0 {
			t.Fatalf("round trip %s", h)
		}
	}
	for _, bad := range []string{"", "0", "XYZ", "-1"} {
		if _, err := ParseSerialHex(bad); err == nil {
			t.Errorf("ParseSerialHex(%q): nil error", bad)
		}
	}
}

// TestKeyFiles: the CA key as openssl and easy-rsa read it, legacy keys,
// wrong passphrases.
func TestKeyFiles(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	dir := t.TempDir()
	k, _ := GenerateKey(P256)
	enc, err := EncryptKey(k, Passphrase("s3cret pass"))
	if err != nil || !IsEncrypted(enc) || !bytes.HasPrefix(enc, []byte("-----BEGIN ENCRYPTED PRIVATE KEY")) {
		t.Fatalf("EncryptKey: %v", err)
	}
	keyFile := write(t, dir, "ca.key", enc)
	pass := write(t, dir, "pass", []byte("s3cret pass\n"))
	if out, err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+pass, "-noout").CombinedOutput(); err != nil {
		t.Fatalf("openssl pkey: %v\n%s", err, out)
	}
	asn1, _ := exec.Command(openssl, "asn1parse", "-in", keyFile).CombinedOutput()
	for _, want := range []string{"PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc", fmt.Sprintf("%X", KDFIterations)} {
		if !strings.Contains(string(asn1), want) {
			t.Errorf("asn1parse lacks %q", want)
		}
	}
	wrong := write(t, dir, "wrong", []byte("nope\n"))
	if err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+wrong, "-noout").Run(); err == nil {
		t.Fatal("openssl opened the key with a wrong passphrase")
	}
	if got, err := ParseKey(enc, Passphrase("s3cret pass")); err != nil || MatchesCert(got, selfCert(t, k)) != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	for _, p := range []string{"", "nope"} {
		if _, err := ParseKey(enc, Passphrase(p)); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("ParseKey(%q): %v", p, err)
		}
	}
	// Legacy "Proc-Type: 4,ENCRYPTED" as old easy-rsa writes, and SEC1 plain.
	plain, _ := MarshalKey(k)
	plainFile := write(t, dir, "plain.pem", plain)
	legacy := filepath.Join(dir, "legacy.pem")
	if out, err := exec.Command(openssl, "ec", "-in", plainFile, "-aes256", "-passout", "file:"+pass, "-out", legacy).CombinedOutput(); err != nil {
		t.Fatalf("openssl ec: %v\n%s", err, out)
	}
	lb, _ := os.ReadFile(legacy)
	if !bytes.Contains(lb, []byte("Proc-Type: 4,ENCRYPTED")) || !IsEncrypted(lb) {
		t.Fatalf("not a legacy key:\n%s", lb)
	}
	if _, err := ParseKey(lb, Passphrase("s3cret pass")); err != nil {
		t.Fatalf("legacy key: %v", err)
	}
	if _, err := ParseKey(lb, Passphrase("nope")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("legacy key, wrong passphrase: %v", err)
	}
	sec1 := filepath.Join(dir, "sec1.pem")
	exec.Command(openssl, "ec", "-in", plainFile, "-out", sec1).Run()
	sb, _ := os.ReadFile(sec1)
	if _, err := ParseKey(sb, nil); err != nil {
		t.Fatalf("SEC1 key: %v", err)
	}
	if _, err := ParseKey([]byte("junk"), nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("junk: %v", err)
	}
}

func selfCert(t *testing.T, k crypto.Signer) *x509.Certificate {
	t.Helper()
	ca, err := NewCA(k, "x", 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca.Cert
}

func TestCRL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	ca := newCA(t, P256)
	s1, _ := NewSerial()
	s2, _ := NewSerial()
	der, err := ca.CreateCRL(7, []Revoked{{s1, time.Now(), KeyCompromise}, {s2, time.Now(), Unspecified}}, time.Now(), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crl := write(t, dir, "crl.pem", CRLPEM(der))
	caFile := write(t, dir, "ca.pem", CertPEM(ca.Cert))
	out, err := exec.Command(openssl, "crl", "-in", crl, "-CAfile", caFile, "-noout", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verify OK") || !strings.Contains(string(out), SerialHex(s1)) ||
		!strings.Contains(string(out), "Key Compromise") || !strings.Contains(string(out), "X509v3 CRL Number") {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
}

func TestSealer(t *testing.T) {
	a, b := newCA(t, P256), newCA(t, P256)
	sa, _ := NewSealer(a)
	sb, _ := NewSealer(b)
	again, _ := NewSealer(a)
	blob, err := sa.Seal([]byte("secret key"), "key:alice:01")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(blob, "key:alice:01"); err != nil || string(got) != "secret key" {
		t.Fatalf("open with the same CA: %q %v", got, err)
	}
	tampered := bytes.Clone(blob)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other label": func() ([]byte, error) { return sa.Open(blob, "key:bob:01") },
		"other CA":    func() ([]byte, error) { return sb.Open(blob, "key:alice:01") },
		"tampered":    func() ([]byte, error) { return sa.Open(tampered, "key:alice:01") },
		"short":       func() ([]byte, error) { return sa.Open(blob[:5], "key:alice:01") },
	} {
		if _, err := try(); !errors.Is(err, ErrUnseal) {
			t.Errorf("%s: got %v, want ErrUnseal", name, err)
		}
	}
	if bytes.Contains(blob, []byte("secret key")) {
		t.Fatal("sealed blob holds the plaintext")
	}
}

func TestReasonsAndSecrets(t *testing.T) {
	for in, want := range map[string]Reason{"": Unspecified, "keyCompromise": KeyCompromise, "key-compromise": KeyCompromise,
		"CACompromise": CACompromise, "affiliation_changed": AffiliationChanged, "SUPERSEDED": Superseded} {
		if got, err := ParseReason(in); err != nil || got != want {
			t.Errorf("ParseReason(%q): %v %v", in, got, err)
		}
	}
	if _, err := ParseReason("boredom"); !errors.Is(err, ErrInvalid) {
		t.Error("ParseReason(boredom): nil error")
	}
	p := Passphrase("hunter22")
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "p", p)
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "p", p)
	fmt.Fprintf(&b, "%v %s %+v %#v", p, p, p, p)
	if strings.Contains(b.String(), "hunter22") || !strings.Contains(b.String(), "[redacted]") {
		t.Fatalf("passphrase printed: %s", b.String())
	}
	p.Wipe()
	if string(p) != strings.Repeat("\x00", 8) {
		t.Fatal("Wipe left bytes")
	}
}

func BenchmarkIssueClientP256(b *testing.B) {
	ca := newCA(b, P256)
	for b.Loop() {
		k, _ := GenerateKey(P256)
		if _, err := ca.Issue(Leaf{Role: Client, CommonName: "u", PublicKey: k.Public(), Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncryptKey(b *testing.B) {
	k, _ := GenerateKey(P256)
	for b.Loop() {
		EncryptKey(k, Passphrase("bench"))
	}
}
