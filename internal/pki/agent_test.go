package pki

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestAgentCertificate: an agent certificate carries the agent policy and
// no extended key usage (OpenVPN's remote-cert-tls client refuses it),
// and only it passes IsAgent.
func TestAgentCertificate(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	ca := newCA(t, P256)
	dir := t.TempDir()
	for _, role := range []Role{Client, Server, Agent} {
		k, _ := GenerateKey(P256)
		c, err := ca.Issue(Leaf{Role: role, CommonName: "agent:dc1", PublicKey: k.Public(), Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if got := IsAgent(c); got != (role == Agent) {
			t.Errorf("role %d: IsAgent = %v", role, got)
		}
		if role != Agent {
			continue
		}
		out, err := exec.Command(openssl, "x509", "-noout", "-text", "-in", write(t, dir, "agent.pem", CertPEM(c))).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509: %v\n%s", err, out)
		}
		text := string(out)
		if !strings.Contains(text, "2.25.301023879721855415786486741801135134386") || strings.Contains(text, "Extended Key Usage") {
			t.Errorf("agent certificate as openssl reads it:\n%s", text)
		}
	}
}
