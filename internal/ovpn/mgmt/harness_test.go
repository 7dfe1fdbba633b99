package mgmt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// This file runs a real OpenVPN 2.6 multi-client server on a tun device in
// a network namespace of the test's own (testenv.Netns), as internal/e2e
// does.

const (
	ready     = "Initialization Sequence Completed"
	vpnPort   = "1194"
	mgmtPass  = "mgmt-test-secret"
	serverCfg = `dev tun
proto udp4
local 127.0.0.1
port ` + vpnPort + `
ca ca.crt
cert server.crt
key server.key
dh none
tls-crypt ta.key
topology subnet
server 10.8.0.0 255.255.255.0
management %s unix mgmt.pw
verb 3
`
	clientCfg = `client
dev tun
proto udp4
remote 127.0.0.1 ` + vpnPort + `
nobind
remote-cert-tls server
verify-x509-name server name
ca ca.crt
cert %[1]s.crt
key %[1]s.key
tls-crypt ta.key
verb 3
`
)

// liveServer is a running server with its management socket.
type liveServer struct {
	ns     *testenv.Netns
	dir    string
	sock   string
	server *testenv.Proc
}

// startLive writes a PKI (vpnkeys' own pki package) and the configs,
// and starts the server.
func startLive(t *testing.T) *liveServer {
	t.Helper()
	ns := testenv.NewNetns(t, "vpnkeys-mgmt")
	dir := t.TempDir()
	writePKI(t, dir, "server", "alice", "bob")
	sock := filepath.Join(dir, "mgmt.sock")
	writeFile(t, dir, "mgmt.pw", mgmtPass+"\n")
	writeFile(t, dir, "server.conf", strings.Replace(serverCfg, "%s", sock, 1))
	for _, u := range []string{"alice", "bob"} {
		writeFile(t, dir, u+".conf", strings.ReplaceAll(clientCfg, "%[1]s", u))
	}
	l := &liveServer{ns: ns, dir: dir, sock: sock}
	l.server = ns.OpenVPN(t, "--cd", dir, "--config", "server.conf")
	if l.server.WaitFor(20*time.Second, ready) == "" {
		t.Fatalf("server did not start:\n%s", l.server.Log())
	}
	return l
}

// connect starts user's client (device overridden, as the recipe says)
// and waits for its tunnel.
func (l *liveServer) connect(t *testing.T, user string) *testenv.Proc {
	t.Helper()
	p := l.ns.OpenVPN(t, "--cd", l.dir, "--config", user+".conf", "--dev", "null", "--ifconfig-noexec", "--route-noexec")
	if p.WaitFor(30*time.Second, ready) == "" {
		t.Fatalf("%s did not connect:\n%s\nserver:\n%s", user, p.Log(), l.server.Log())
	}
	return p
}

func writePKI(t *testing.T, dir, server string, users ...string) {
	t.Helper()
	now := time.Now()
	caKey, err := pki.GenerateKey(pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA(caKey, "mgmt test CA", 1, now)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "ca.crt", string(pki.CertPEM(ca.Cert)))
	issue := func(role pki.Role, cn string) {
		k, err := pki.GenerateKey(pki.P256)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ca.Issue(pki.Leaf{Role: role, CommonName: cn, PublicKey: k.Public(), Days: 1, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		kp, err := pki.MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, cn+".crt", string(pki.CertPEM(c)))
		writeFile(t, dir, cn+".key", string(kp))
	}
	issue(pki.Server, server)
	for _, u := range users {
		issue(pki.Client, u)
	}
	key, err := ovpn.NewStaticKey()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "ta.key", string(ovpn.FormatStaticKey(key)))
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func dial(t *testing.T, l *liveServer, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", l.sock, append([]Option{WithPassword(mgmtPass)}, opts...)...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
