package tlscryptv2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// This file runs real OpenVPN 2.6 servers and clients with tls-crypt-v2
// on tun devices in a network namespace of the test's own
// (testenv.Netns), as internal/ovpn/mgmt's live test does.

const (
	ready     = "Initialization Sequence Completed"
	serverCfg = `dev tun
proto udp4
local 127.0.0.1
port 1194
ca ca.crt
cert server.crt
key server.key
dh none
tls-crypt-v2 tc2-server.key
topology subnet
server 10.8.0.0 255.255.255.0
verb 3
`
	clientCfg = `client
dev tun
proto udp4
remote 127.0.0.1 1194
nobind
remote-cert-tls server
verify-x509-name server name
ca ca.crt
cert %[1]s.crt
key %[1]s.key
tls-crypt-v2 %[1]s.tc2
verb 3
`
)

// lab is a namespace and a folder with a PKI (a CA, a server "server"
// and users), where servers and clients are started.
type lab struct {
	ns  *testenv.Netns
	dir string
}

func newLab(t *testing.T, users ...string) *lab {
	t.Helper()
	l := &lab{ns: testenv.NewNetns(t, "vpnkeys-tc2"), dir: t.TempDir()}
	writePKI(t, l.dir, "server", users...)
	for _, u := range users {
		l.write(t, u+".conf", []byte(strings.ReplaceAll(clientCfg, "%[1]s", u)))
	}
	return l
}

func (l *lab) write(t *testing.T, name string, content []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, name), content, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) path(name string) string { return filepath.Join(l.dir, name) }

// startServer writes serverKey as the server's tls-crypt-v2 key and starts
// the server with serverCfg and extra lines; it is stopped when t ends.
func (l *lab) startServer(t *testing.T, serverKey []byte, extra string) *testenv.Proc {
	t.Helper()
	l.write(t, "tc2-server.key", serverKey)
	l.write(t, "server.conf", []byte(serverCfg+extra))
	p := l.ns.OpenVPN(t, "--cd", l.dir, "--config", "server.conf")
	if p.WaitFor(20*time.Second, ready) == "" {
		t.Fatalf("server did not start:\n%s", p.Log())
	}
	return p
}

// startClient writes clientKey as user's tls-crypt-v2 key and starts the
// user's client (no device of its own: --dev null).
func (l *lab) startClient(t *testing.T, user string, clientKey []byte) *testenv.Proc {
	t.Helper()
	l.write(t, user+".tc2", clientKey)
	return l.ns.OpenVPN(t, "--cd", l.dir, "--config", user+".conf", "--dev", "null", "--ifconfig-noexec", "--route-noexec")
}

// connect starts user's client and waits for its tunnel.
func (l *lab) connect(t *testing.T, server *testenv.Proc, user string, clientKey []byte) *testenv.Proc {
	t.Helper()
	p := l.startClient(t, user, clientKey)
	if p.WaitFor(30*time.Second, ready) == "" {
		t.Fatalf("%s did not connect:\n%s\nserver:\n%s", user, p.Log(), server.Log())
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
	ca, err := pki.NewCA(caKey, "tls-crypt-v2 test CA", 1, now)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"ca.crt": pki.CertPEM(ca.Cert)}
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
		files[cn+".crt"], files[cn+".key"] = pki.CertPEM(c), kp
	}
	issue(pki.Server, server)
	for _, u := range users {
		issue(pki.Client, u)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
