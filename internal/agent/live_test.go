package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// This file runs the agent against a real OpenVPN 2.6 server on a tun
// device in a network namespace of the test's own, with the management
// socket and session hook lines of the generated server.conf, OpenVPN
// dropping to nobody, and real clients.

const (
	ready   = "Initialization Sequence Completed"
	liveCfg = `dev tun
proto udp4
local 127.0.0.1
port 1194
topology subnet
server 10.8.0.0 255.255.255.0
ca ca.crt
cert server.crt
key server.key
dh none
tls-crypt ta.key
crl-verify crl.pem
user nobody
group nogroup
persist-key
persist-tun
verb 3
# Without duplicate-cn OpenVPN itself drops a user's older session when the
# same common name logs in again; with it, a renewed certificate's session
# and the old one's coexist, and only the agent tells them apart.
duplicate-cn
# The vpnkeys agent ends revoked users' sessions through this socket (root only)
# and learns each session's certificate from vpnkeys-session.sh. No login waits for it.
management RUNDIR/dc1.sock unix
management-client-user root
script-security 2
client-connect ./vpnkeys-session.sh
client-disconnect ./vpnkeys-session.sh
remote-cert-tls client
`
	liveClient = `client
dev tun
proto udp4
remote 127.0.0.1 1194
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

// live is a real OpenVPN server kept by an agent, with its control plane
// stand-in and the clients' certificates.
type live struct {
	ns                   *testenv.Netns
	ca                   testCA
	cp                   *controlPlane
	server, run, clients string
	cfg                  Config
	base                 agentwire.State // the server files, nothing revoked
	serials              map[string]*big.Int
	openvpn              *testenv.Proc
	log                  *lockedBuffer
	stop                 func()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startLive(t *testing.T, clients ...string) *live {
	t.Helper()
	l := &live{ns: testenv.NewNetns(t, "vpnkeys-agent"), ca: newTestCA(t, "agent live CA"), serials: map[string]*big.Int{}, log: &lockedBuffer{}}
	root := t.TempDir()
	// OpenVPN drops to nobody: the hook and the CRL must be reachable.
	os.Chmod(filepath.Dir(root), 0o755)
	os.Chmod(root, 0o755)
	l.server, l.run, l.clients = filepath.Join(root, "server"), filepath.Join(root, "run"), filepath.Join(root, "clients")
	os.Mkdir(l.clients, 0o700)
	l.base = l.serverFiles(t)
	for _, name := range clients {
		cn, _, _ := strings.Cut(name, "-") // carol-old and carol-new are both carol
		c, key := l.ca.issue(t, pki.Client, cn)
		l.serials[name] = c.SerialNumber
		writeTest(t, l.clients, name+".crt", pki.CertPEM(c))
		writeTest(t, l.clients, name+".key", key)
		writeTest(t, l.clients, name+".conf", []byte(fmt.Sprintf(liveClient, name)))
	}
	l.cp = newControlPlane(t, l.ca, l.ca, "dc1")
	l.cp.set(l.base)
	state := filepath.Join(root, "state")
	if _, err := Join(context.Background(), l.cp.url(), l.ca.token(), state, nil); err != nil {
		t.Fatal(err)
	}
	l.cfg = Config{StateDir: state, Dir: l.server, SweepInterval: 200 * time.Millisecond, ReportInterval: 300 * time.Millisecond,
		Wait: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(l.log, nil))}
	l.startAgent(t)
	// The agent writes the folder and makes the run and session folders
	// before OpenVPN, which needs them, starts.
	waitFile(t, l, filepath.Join(l.run, "dc1.sessions"))
	l.openvpn = l.ns.OpenVPN(t, "--cd", l.server, "--config", "server.conf")
	if l.openvpn.WaitFor(20*time.Second, ready) == "" {
		t.Fatalf("server did not start:\n%s", l.openvpn.Log())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log:\n%s\nserver log:\n%s", l.log.String(), l.openvpn.Log())
		}
	})
	return l
}

// serverFiles is the server's folder as the control plane would send it.
func (l *live) serverFiles(t *testing.T) agentwire.State {
	srv, srvKey := l.ca.issue(t, pki.Server, "server")
	ta, err := ovpn.NewStaticKey()
	if err != nil {
		t.Fatal(err)
	}
	writeTest(t, l.clients, "ca.crt", pki.CertPEM(l.ca.Cert))
	writeTest(t, l.clients, "ta.key", ovpn.FormatStaticKey(ta))
	hook, err := ovpn.SessionHook(l.run, "dc1") // the hook the control plane sends
	if err != nil {
		t.Fatal(err)
	}
	return agentwire.State{Files: []agentwire.File{
		{Name: "server.conf", Mode: 0o644, Data: []byte(strings.ReplaceAll(liveCfg, "RUNDIR", l.run))},
		{Name: "ca.crt", Mode: 0o644, Data: pki.CertPEM(l.ca.Cert)},
		{Name: "server.crt", Mode: 0o644, Data: pki.CertPEM(srv)},
		{Name: "server.key", Mode: 0o600, Data: srvKey},
		{Name: "ta.key", Mode: 0o600, Data: ovpn.FormatStaticKey(ta)},
		{Name: "crl.pem", Mode: 0o644, Data: crlPEM(t, l.ca, 1)},
		{Name: "vpnkeys-session.sh", Mode: 0o755, Data: hook},
	}}
}

// startAgent runs the agent until stopAgent or the test's end.
func (l *live) startAgent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() { err = Run(ctx, l.cfg); close(done) }()
	l.stop = func() {
		cancel()
		<-done
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// revoke is the base state with serials revoked (in the CRL too).
func (l *live) revoke(t *testing.T, number int64, names ...string) agentwire.State {
	st := l.base
	st.Files = append([]agentwire.File(nil), l.base.Files...)
	var serials []*big.Int
	for _, n := range names {
		serials = append(serials, l.serials[n])
		st.Revoked = append(st.Revoked, serialKey(l.serials[n]))
	}
	st.Files[5].Data = crlPEM(t, l.ca, number, serials...)
	st.CRL.Number = number
	return st
}

// connect starts a client and waits for its tunnel.
func (l *live) connect(t *testing.T, name string) *testenv.Proc {
	t.Helper()
	p := l.ns.OpenVPN(t, "--cd", l.clients, "--config", name+".conf", "--dev", "null", "--ifconfig-noexec", "--route-noexec")
	if p.WaitFor(30*time.Second, ready) == "" {
		t.Fatalf("%s did not connect:\n%s\nserver:\n%s", name, p.Log(), l.openvpn.Log())
	}
	return p
}

// halted waits for the server-pushed halt in p's log and p's exit.
func halted(t *testing.T, name string, p *testenv.Proc, reason string) {
	t.Helper()
	want := "Halt command was pushed by server ('" + reason + "')"
	if p.WaitFor(30*time.Second, want) == "" {
		t.Fatalf("%s: no %q in its log:\n%s", name, want, p.Log())
	}
	if !p.Exited(10 * time.Second) {
		t.Fatalf("%s still runs after the halt", name)
	}
}

// running checks that none of procs exited.
func running(t *testing.T, procs map[string]*testenv.Proc) {
	t.Helper()
	for name, p := range procs {
		if p.Exited(0) {
			t.Errorf("%s exited:\n%s", name, p.Log())
		}
	}
}

// sessions maps "user serial" of a report's sessions, the serial in the
// form the control plane keeps.
func sessions(r agentwire.Report) string {
	var out []string
	for _, s := range r.Sessions {
		out = append(out, s.User+" "+s.Serial)
	}
	return strings.Join(sortStrings(out), ", ")
}

func (l *live) want(names ...string) string {
	var out []string
	for _, n := range names {
		cn, _, _ := strings.Cut(n, "-")
		out = append(out, cn+" "+pki.SerialHex(l.serials[n]))
	}
	return strings.Join(sortStrings(out), ", ")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func writeTest(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitFile(t *testing.T, l *live, path string) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared; agent log:\n%s", path, l.log.String())
}
