package agent

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestAdoptRenewedCA: the agent adds a CA rollover's renewed certificate
// (same key and subject) to its roots, never another CA's certificate of
// the same name, and then verifies the control plane's certificate after
// the old root has expired.
func TestAdoptRenewedCA(t *testing.T) {
	now := time.Now()
	k, _ := pki.GenerateKey(pki.P256)
	old, err := pki.NewCA(k, "Example VPN CA", 30, now)
	if err != nil {
		t.Fatal(err)
	}
	next, err := old.Renew(3650, now)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := pki.GenerateKey(pki.P256)
	impostor, _ := pki.NewCA(k2, "Example VPN CA", 3650, now)
	dir := t.TempDir()
	caPath := filepath.Join(dir, CAFile)
	os.WriteFile(caPath, pki.CertPEM(old.Cert), 0o644)
	st := agentwire.State{Server: "dc1", Files: []agentwire.File{
		{Name: "ca.crt", Mode: 0o644, Data: append(pki.CertPEM(impostor.Cert), pki.CertPEM(next)...)},
	}}
	for i, want := range []bool{true, false} {
		added, err := adoptRenewedCA(dir, st)
		if err != nil || added != want {
			t.Fatalf("call %d: got %v %v, want added=%v", i, added, err, want)
		}
	}
	b, _ := os.ReadFile(caPath)
	got := certsOf(b)
	if len(got) != 2 || !got[0].Equal(old.Cert) || !got[1].Equal(next) {
		t.Fatalf("%s: got %d certificates, want the pinned one and its renewal", CAFile, len(got))
	}
	pool, err := rootPool(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := (&pki.CA{Cert: next, Key: k}).Issue(pki.Leaf{Role: pki.Server, CommonName: "control", PublicKey: k.Public(), Days: 400, Now: now, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	later := now.AddDate(0, 0, 60) // the old root has expired
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: later}); err != nil {
		t.Fatalf("after the old root's end: %v", err)
	}
	only := x509.NewCertPool()
	only.AddCert(old.Cert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: only, CurrentTime: later}); err == nil {
		t.Fatal("the old root alone verified after its end: the test lost its premise")
	}
}
