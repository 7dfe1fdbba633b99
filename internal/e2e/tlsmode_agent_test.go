package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestAgentTLSCryptV2: `server set --tls-mode tls-crypt-v2` reaches the
// datacenter through its agent (server key, verify script and
// revoked-serials installed); a user's tls-crypt-v2 profile connects, and
// once revoked is dropped by the verify script, with the revoked-serials
// the agent wrote, before any TLS work.
func TestAgentTLSCryptV2(t *testing.T) {
	f := newFleet(t, 1)
	d := f.dcs[0]
	mustRun(t, f.env, "server", "set", d.name, "--tls-mode", "tls-crypt-v2")
	waitContent(t, filepath.Join(d.dir, "server.conf"), "tls-crypt-v2-verify ./tls-crypt-v2-verify.sh", d.agent)
	for _, n := range []string{"tls-crypt-v2-server.key", "tls-crypt-v2-verify.sh", "revoked-serials"} {
		waitFile(t, filepath.Join(d.dir, n), d.agent)
	}
	d.vpn.Stop() // the fleet's agents run no restart command
	d.vpn = f.nsOf(d).startServer(t, d.dir)

	mustRun(t, f.env, "add", "alice")
	alice := keep(t, filepath.Join(f.data, "bundles", "alice", "alice.ovpn"))
	if b, _ := os.ReadFile(alice); !strings.Contains(string(b), "<tls-crypt-v2>") {
		t.Fatalf("alice.ovpn is not tls-crypt-v2:\n%s", b)
	}
	c := f.dial(t, alice, d)
	mustRun(t, f.env, "revoke", "alice")
	waitAll(t, []*testenv.Proc{c}, halted, 30*time.Second)
	waitContent(t, filepath.Join(d.dir, "revoked-serials"), "\n", d.agent)
	if ok, log := f.ns.connect(t, f.profileFor(t, alice, d)); ok {
		t.Fatalf("revoked alice reconnected:\n%s", log)
	}
	if d.vpn.WaitFor(5*time.Second, verifyRefused) == "" {
		t.Fatalf("server did not log %q:\n%s", verifyRefused, d.vpn.Log())
	}
	if strings.Contains(d.vpn.Log(), "certificate revoked") {
		t.Fatalf("revoked alice reached the certificate check:\n%s", d.vpn.Log())
	}
}

// waitContent waits for path to hold sub, showing p's log when it does not.
func waitContent(t testing.TB, path, sub string, p *testenv.Proc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), sub) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come to hold %q:\n%s", path, sub, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
