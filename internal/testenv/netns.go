package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Netns is a network namespace made for one test, with only lo up, where
// real OpenVPN servers and clients run on tun devices; it is deleted when
// the test ends. It needs root and /dev/net/tun (CI runs as root); without
// them Missing is called.
type Netns struct {
	Name    string
	openvpn string
}

// NewNetns makes a namespace named PREFIX-RANDOM.
func NewNetns(t testing.TB, prefix string) *Netns {
	t.Helper()
	openvpn := OpenVPN(t)
	ip := LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip")
	if !IsRoot() {
		Missing(t, "a network namespace with a tun device needs root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		Missing(t, "/dev/net/tun: %v", err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	n := &Netns{Name: prefix + "-" + hex.EncodeToString(b), openvpn: openvpn}
	if out, err := exec.Command(ip, "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "delete", n.Name).Run() })
	if out, err := exec.Command(ip, "-n", n.Name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	return n
}

// OpenVPN runs openvpn with args inside the namespace (`ip netns exec`
// execs it, so the process ID is OpenVPN's). It is stopped when the test
// ends.
func (n *Netns) OpenVPN(t testing.TB, args ...string) *Proc {
	t.Helper()
	p := &Proc{cmd: exec.Command("ip", append([]string{"netns", "exec", n.Name, n.openvpn}, args...)...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting openvpn: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	return p
}

// Proc is a running process whose output is kept.
type Proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Log is everything the process printed so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// PID is the process ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// WaitFor polls the log for any of subs and returns the one seen, or ""
// when the process exits without printing one or the time runs out.
func (p *Proc) WaitFor(timeout time.Duration, subs ...string) string {
	deadline := time.Now().Add(timeout)
	for {
		l := p.Log()
		for _, s := range subs {
			if strings.Contains(l, s) {
				return s
			}
		}
		if !time.Now().Before(deadline) {
			return ""
		}
		select {
		case <-p.done:
			l = p.Log()
			for _, s := range subs {
				if strings.Contains(l, s) {
					return s
				}
			}
			return ""
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Exited tells whether the process ends within timeout.
func (p *Proc) Exited(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Stop ends the process: SIGTERM, then SIGKILL after 5 s.
func (p *Proc) Stop() {
	if p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.Exited(5 * time.Second) {
		p.cmd.Process.Kill()
		<-p.done
	}
}
