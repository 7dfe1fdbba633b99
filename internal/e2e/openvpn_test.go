package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestOpenVPN: a real OpenVPN 2.6 runs the server.conf vpnkeys wrote, and
// accepts the profiles vpnkeys wrote as shipped; after `revoke`, the
// revoked user is refused (the server logs "certificate revoked") while
// another user still connects, without restarting the server.
func TestOpenVPN(t *testing.T) {
	for _, algo := range []pki.Algo{pki.P256, pki.RSA2048, pki.Ed25519} {
		t.Run(string(algo), func(t *testing.T) {
			t.Parallel()
			testOpenVPN(t, algo)
		})
	}
}

func testOpenVPN(t *testing.T, algo pki.Algo) {
	ns := newNetns(t)
	openssl := testenv.OpenSSL(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := authority.New(db, authority.Options{DataDir: dir, Company: "Example", AgentRunDir: runDir(t)})
	if err := a.Init(ctx, authority.InitRequest{Algo: algo, Passphrase: pki.Passphrase("e2e pass")}); err != nil {
		t.Fatal(err)
	}
	// Two datacenters: the first is down, so the client must fail over.
	for _, s := range []authority.ServerRequest{
		{Name: "dc-down", Remote: "127.0.0.1:11999/udp"},
		{Name: "dc1", Remote: "127.0.0.1:11942/udp", Push: ovpn.Push{Routes: []string{"10.1.0.0/16"}, DNS: []string{"10.1.0.53"}, Domain: "corp.example.com"}},
	} {
		if _, err := a.AddServer(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	srvDir := filepath.Join(dir, "server")
	if err := a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	traversable(t, srvDir)
	out := filepath.Join(dir, "bundles")
	if _, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob", OS: "linux"}}, authority.AddOptions{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		b := filepath.Join(out, u)
		if o, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(b, "ca.crt"), filepath.Join(b, u+".crt")).CombinedOutput(); err != nil {
			t.Fatalf("openssl verify %s: %v\n%s", u, err, o)
		}
	}
	if o, err := exec.Command(openssl, "crl", "-in", filepath.Join(srvDir, "crl.pem"), "-CAfile", filepath.Join(srvDir, "ca.crt"), "-noout").CombinedOutput(); err != nil || !strings.Contains(string(o), "verify OK") {
		t.Fatalf("openssl crl: %v\n%s", err, o)
	}

	srv := ns.startServer(t, srvDir)
	for _, u := range []string{"alice", "bob"} {
		ok, log := ns.connect(t, filepath.Join(out, u, u+".ovpn"))
		if !ok {
			t.Fatalf("%s could not connect:\n%s\nserver:\n%s", u, log, srv.Log())
		}
		// The server pushes the routes, DNS server and domain of server add --push-route --dns --domain.
		for _, want := range []string{"route 10.1.0.0 255.255.0.0", "dhcp-option DNS 10.1.0.53", "dhcp-option DOMAIN corp.example.com"} {
			if !strings.Contains(log, want) {
				t.Fatalf("%s's client log lacks the pushed %q:\n%s", u, want, log)
			}
		}
	}

	alice := keep(t, filepath.Join(out, "alice", "alice.ovpn"))
	if _, err := a.Revoke(ctx, "alice", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	if ok, log := ns.connect(t, alice); ok {
		t.Fatalf("revoked alice connected:\n%s", log)
	}
	if srv.WaitFor(5*time.Second, "certificate revoked") == "" {
		t.Fatalf("server did not log 'certificate revoked':\n%s", srv.Log())
	}
	if ok, log := ns.connect(t, filepath.Join(out, "bob", "bob.ovpn")); !ok {
		t.Fatalf("bob could not connect after alice's revocation:\n%s\nserver:\n%s", log, srv.Log())
	}
	if _, err := os.Stat(filepath.Join(srvDir, "server.key")); err != nil {
		t.Fatal(err)
	}
}
