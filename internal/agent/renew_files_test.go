package agent

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestFinishRenewal: whatever point a crash stopped installPair at, the
// state folder loads (the pair verified) with a matching pair: the new
// one once its certificate was written whole, else the old one. A new key
// without its certificate stays for the next attempt; nothing else is
// left.
func TestFinishRenewal(t *testing.T) {
	ca := newTestCA(t, "finish CA")
	oldC, oldK := ca.issue(t, pki.Agent, "agent:dc1")
	newC, newK := ca.issue(t, pki.Agent, "agent:dc1")
	oldCert, newCert := pki.CertPEM(oldC), pki.CertPEM(newC)
	for _, tc := range []struct {
		name    string
		files   map[string][]byte
		want    []byte // agent.crt after
		pending bool   // agent.key.new stays
	}{
		{"ok/no renewal", map[string][]byte{KeyFile: oldK, CertFile: oldCert}, oldCert, false},
		{"ok/crash before the certificate was written", map[string][]byte{KeyFile: oldK, CertFile: oldCert, newKeyFile: newK}, oldCert, true},
		{"ok/crash before the renames", map[string][]byte{KeyFile: oldK, CertFile: oldCert, newKeyFile: newK, newCertFile: newCert}, newCert, false},
		{"ok/crash between the renames", map[string][]byte{KeyFile: newK, CertFile: oldCert, newCertFile: newCert}, newCert, false},
		{"ok/a stray certificate of no key held", map[string][]byte{KeyFile: oldK, CertFile: oldCert, newCertFile: []byte("junk")}, oldCert, false},
		{"ok/a stray certificate and a pending key", map[string][]byte{KeyFile: oldK, CertFile: oldCert, newKeyFile: newK, newCertFile: []byte("junk")}, oldCert, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := finishRenewal(dir); err != nil {
				t.Fatalf("finishRenewal: got %v, want nil", err)
			}
			if got := readFile(t, dir, CertFile); !bytes.Equal(got, tc.want) {
				t.Errorf("agent.crt: got %q, want %q", got, tc.want)
			}
			if _, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)); err != nil {
				t.Errorf("agent.crt and agent.key: got %v, want a matching pair", err)
			}
			if _, err := os.Stat(filepath.Join(dir, newCertFile)); err == nil {
				t.Errorf("%s left over", newCertFile)
			}
			if _, err := os.Stat(filepath.Join(dir, newKeyFile)); (err == nil) != tc.pending {
				t.Errorf("%s there: got %v, want %v", newKeyFile, err == nil, tc.pending)
			}
		})
	}
}
