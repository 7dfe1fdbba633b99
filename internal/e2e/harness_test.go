package e2e

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

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// netns is a network namespace made for one test, with only lo up.
type netns struct {
	name    string
	openvpn string
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
	n := &netns{name: "vpnkeys-" + hex.EncodeToString(b), openvpn: openvpn}
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

// waitFor polls the log for any of subs; it returns the one seen, or ""
// when the process exits or the time runs out.
func (p *proc) waitFor(timeout time.Duration, subs ...string) string {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		l := p.log()
		for _, s := range subs {
			if strings.Contains(l, s) {
				return s
			}
		}
		select {
		case <-p.done:
			l = p.log()
			for _, s := range subs {
				if strings.Contains(l, s) {
					return s
				}
			}
			return ""
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ""
}

func (p *proc) stop() {
	if p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// start runs openvpn with args inside the namespace.
func (n *netns) start(t *testing.T, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	full := append([]string{"netns", "exec", n.name, n.openvpn}, args...)
	p := &proc{cmd: exec.CommandContext(ctx, "ip", full...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.Cancel = func() error { return p.cmd.Process.Kill() }
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting openvpn: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(); cancel() })
	return p
}

const ready = "Initialization Sequence Completed"

// startServer runs the server.conf in dir as written (from dir, as
// Debian's openvpn-server@ unit does with --cd).
func (n *netns) startServer(t *testing.T, dir string) *proc {
	t.Helper()
	p := n.start(t, "--cd", dir, "--config", "server.conf")
	if p.waitFor(20*time.Second, ready) == "" {
		t.Fatalf("server did not start:\n%s", p.log())
	}
	return p
}

// connect runs a client on profile as shipped, with only the device
// overridden (and shorter timeouts), and reports whether it completed the
// handshake. A server that does not answer is left after 3 s for the
// profile's next remote; a refused handshake ends the attempt.
func (n *netns) connect(t *testing.T, profile string) (bool, string) {
	t.Helper()
	p := n.start(t, "--config", profile, "--dev", "null", "--ifconfig-noexec", "--route-noexec",
		"--server-poll-timeout", "3", "--hand-window", "5", "--connect-retry-max", "1", "--verb", "3")
	ok := p.waitFor(30*time.Second, ready, "Exiting due to fatal error", "TLS handshake failed") == ready
	p.stop()
	return ok, p.log()
}

// traversable opens dir and its parents to "other" so OpenVPN, running as
// nobody after its privilege drop, can re-read crl.pem (t.TempDir makes
// 0700 folders).
func traversable(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
}
