package mgmt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// This file runs a real OpenVPN 2.6 multi-client server on a tun device in
// a network namespace of the test's own, as internal/e2e does (copied, as
// e2e is a test-only package).

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

// netns is a network namespace made for one test, with only lo up.
type netns struct {
	name, openvpn string
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	openvpn := testenv.OpenVPN(t)
	ip := testenv.LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip")
	if !testenv.IsRoot() {
		testenv.Missing(t, "a network namespace with a tun device needs root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Missing(t, "/dev/net/tun: %v", err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	n := &netns{name: "vpnkeys-mgmt-" + hex.EncodeToString(b), openvpn: openvpn}
	if out, err := exec.Command(ip, "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "delete", n.name).Run() })
	if out, err := exec.Command(ip, "-n", n.name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	return n
}

// proc is a running openvpn whose output is kept.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor polls the log for sub until the process exits or timeout.
func (p *proc) waitFor(timeout time.Duration, sub string) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(p.log(), sub) {
			return true
		}
		select {
		case <-p.done:
			return strings.Contains(p.log(), sub)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func (p *proc) exited(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.exited(5 * time.Second) {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// start runs openvpn with args inside the namespace, from dir. `ip netns
// exec` execs openvpn, so the process ID is OpenVPN's.
func (n *netns) start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	full := append([]string{"netns", "exec", n.name, n.openvpn, "--cd", dir}, args...)
	p := &proc{cmd: exec.Command("ip", full...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting openvpn: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	return p
}

// liveServer is a running server with its management socket.
type liveServer struct {
	ns     *netns
	dir    string
	sock   string
	server *proc
}

// startLive writes a PKI (vpnkeys' own pki package) and the configs,
// and starts the server.
func startLive(t *testing.T) *liveServer {
	t.Helper()
	ns := newNetns(t)
	dir := t.TempDir()
	writePKI(t, dir, "server", "alice", "bob")
	sock := filepath.Join(dir, "mgmt.sock")
	writeFile(t, dir, "mgmt.pw", mgmtPass+"\n")
	writeFile(t, dir, "server.conf", strings.Replace(serverCfg, "%s", sock, 1))
	for _, u := range []string{"alice", "bob"} {
		writeFile(t, dir, u+".conf", strings.ReplaceAll(clientCfg, "%[1]s", u))
	}
	l := &liveServer{ns: ns, dir: dir, sock: sock}
	l.server = ns.start(t, dir, "--config", "server.conf")
	if !l.server.waitFor(20*time.Second, ready) {
		t.Fatalf("server did not start:\n%s", l.server.log())
	}
	return l
}

// connect starts user's client (device overridden, as the recipe says)
// and waits for its tunnel.
func (l *liveServer) connect(t *testing.T, user string) *proc {
	t.Helper()
	p := l.ns.start(t, l.dir, "--config", user+".conf", "--dev", "null", "--ifconfig-noexec", "--route-noexec")
	if !p.waitFor(30*time.Second, ready) {
		t.Fatalf("%s did not connect:\n%s\nserver:\n%s", user, p.log(), l.server.log())
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
