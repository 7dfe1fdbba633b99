package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCARolloverLive: a CA rollover carried through against a real
// OpenVPN 2.6 server kept by a real agent, with clients connected: nobody
// is refused at any step. A client connected with a pre-rollover profile
// stays connected when the rollover starts; once the agent wrote the
// server's new ca.crt (the new certificate alone: OpenVPN's server refuses
// a CA file holding both, shown on a copy of the folder) and OpenVPN
// restarted (what the agent's restart command does), pre-rollover and
// mid-rollover profiles (which hold both) connect; after finish the
// server's ca.crt is still the new certificate alone, and pre-rollover,
// mid-rollover and post-finish profiles all connect, while a user revoked
// meanwhile is still refused.
func TestCARolloverLive(t *testing.T) {
	// The agent makes the run folder OpenVPN's management socket goes in
	// on its first sweep, which may come after OpenVPN starts: made here.
	f := newFleetWith(t, 1, func(t testing.TB, d *datacenter) {
		if err := os.MkdirAll(filepath.Join(filepath.Dir(filepath.Dir(d.dir)), "run"), 0o755); err != nil {
			t.Fatal(err)
		}
	})
	d := f.dcs[0]
	mustRun(t, f.env, "add", "alice", "dave")
	profile := func(u string) string { return keep(t, filepath.Join(f.data, "bundles", u, u+".ovpn")) }
	aliceOld, daveOld := profile("alice"), profile("dave")
	oldCA := caCerts(t, filepath.Join(d.dir, "ca.crt"))
	if len(oldCA) != 1 {
		t.Fatalf("ca.crt before the rollover holds %d certificates, want 1", len(oldCA))
	}
	mustConnect := func(t *testing.T, step, p string) {
		t.Helper()
		if ok, log := f.ns.connect(t, f.profileFor(t, p, d)); !ok {
			t.Fatalf("%s: %s refused:\n%s\nserver:\n%s", step, filepath.Base(p), tail(log, 30), tail(d.vpn.Log(), 30))
		}
	}
	restartVPN := func(t *testing.T) {
		t.Helper()
		d.vpn.Stop()
		d.vpn = f.nsOf(d).startServer(t, d.dir)
	}
	live := f.dial(t, aliceOld, d)
	f.waitUser(t, "alice")

	mustRun(t, f.env, "ca", "rollover", "start", "--days", "7300")
	next := waitNewCA(t, filepath.Join(d.dir, "ca.crt"), oldCA[0], d)
	if live.Exited(0) {
		t.Fatalf("alice's session ended when the rollover started:\n%s", live.Log())
	}
	t.Run("ok/openvpn-server-refuses-both-certificates", func(t *testing.T) { refusesBoth(t, f, d, oldCA[0]+next) })
	mustRun(t, f.env, "add", "bob")
	bobMid := profile("bob")
	if b, _ := os.ReadFile(bobMid); strings.Count(string(b), "BEGIN CERTIFICATE") != 3 { // two CA + bob's own
		t.Fatalf("a mid-rollover profile holds %d certificates, want both CA certificates and bob's", strings.Count(string(b), "BEGIN CERTIFICATE"))
	}
	live.Stop()
	restartVPN(t)
	mustConnect(t, "during the rollover", aliceOld)
	mustConnect(t, "during the rollover", bobMid)
	mustRun(t, f.env, "revoke", "dave")

	mustRun(t, f.env, "ca", "rollover", "finish")
	if after := caCerts(t, filepath.Join(d.dir, "ca.crt")); len(after) != 1 || after[0] != next {
		t.Fatal("after finish the server's ca.crt is not the new certificate alone")
	}
	restartVPN(t)
	mustRun(t, f.env, "add", "carol")
	carolNew := profile("carol")
	if b, _ := os.ReadFile(carolNew); strings.Contains(string(b), oldCA[0]) {
		t.Fatal("a profile made after finish still holds the old CA certificate")
	}
	for _, p := range []string{aliceOld, bobMid, carolNew} {
		mustConnect(t, "after finish", p)
	}
	if ok, log := f.ns.connect(t, f.profileFor(t, daveOld, d)); ok {
		t.Fatalf("revoked dave connected after the rollover:\n%s", log)
	}
	status := mustRun(t, f.env, "ca", "show")
	if !strings.Contains(status, "next step:       none") {
		t.Fatalf("ca show after finish:\n%s", status)
	}
}

// refusesBoth shows why the servers' ca.crt holds the new certificate
// alone: OpenVPN 2.6 as a server, on a copy of d's folder with both CA
// certificates (caPEM), refuses to start.
func refusesBoth(t *testing.T, f *fleet, d *datacenter, caPEM string) {
	dir := filepath.Join(t.TempDir(), "server")
	if err := os.CopyFS(dir, os.DirFS(d.dir)); err != nil {
		t.Fatal(err)
	}
	traversable(t, dir)
	os.WriteFile(filepath.Join(dir, "ca.crt"), []byte(caPEM), 0o644)
	// Another port, device and socket, so it cannot clash with the live one.
	p := f.ns.OpenVPN(t, "--cd", dir, "--config", "server.conf", "--port", fmt.Sprint(d.port+50),
		"--dev", "vpn-both", "--management", filepath.Join(runDir(t), "both.sock"), "unix")
	if got := p.WaitFor(20*time.Second, ready, "were valid X509 names"); got != "were valid X509 names" {
		t.Fatalf("OpenVPN's server with both CA certificates: got %q, want the refusal:\n%s", got, p.Log())
	}
}

// caCerts are the PEM certificates in path, in order.
func caCerts(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.SplitAfter(string(b), "-----END CERTIFICATE-----\n") {
		if strings.Contains(part, "BEGIN CERTIFICATE") {
			out = append(out, strings.TrimLeft(part, "\n"))
		}
	}
	return out
}

// waitNewCA waits until d's agent wrote a ca.crt of one certificate other
// than old, and returns it.
func waitNewCA(t testing.TB, path, old string, d *datacenter) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c := caCerts(t, path); len(c) == 1 && c[0] != old {
			return c[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got the new CA certificate:\n%s", path, tail(d.agent.Log(), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
