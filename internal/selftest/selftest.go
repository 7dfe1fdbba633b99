package selftest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Names of the checks.
const (
	CheckTunnel  = "tunnel"
	CheckRevoked = "revoked"
	CheckCRL     = "crl"
)

// DefaultTimeout is how long one probe may take.
const DefaultTimeout = 15 * time.Second

// ready is what OpenVPN logs once a tunnel is up.
const ready = "Initialization Sequence Completed"

// Check is the outcome of one check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Remote is where the probes connect.
type Remote struct {
	Host  string
	Port  int
	Proto string // udp or tcp
}

// Probe is what Run needs: the openvpn binary, the two probe profiles
// and where to connect. The profiles' own remote lines are replaced by
// Remote when it is set.
type Probe struct {
	OpenVPN string // path or name of the openvpn binary ("" is "openvpn")
	Valid   []byte // the valid probe's profile
	Revoked []byte // the revoked probe's profile
	Remote  Remote
	Timeout time.Duration // per probe; 0 is DefaultTimeout
}

// Run runs both probes at once and returns the tunnel and revoked
// checks. It ends when both clients ended, or ctx did.
func (p Probe) Run(ctx context.Context) []Check {
	var valid, revoked Outcome
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); valid = p.connect(ctx, p.Valid) }()
	go func() { defer wg.Done(); revoked = p.connect(ctx, p.Revoked) }()
	wg.Wait()
	return []Check{tunnelCheck(valid), revokedCheck(revoked)}
}

// Outcome is how one client attempt ended.
type Outcome struct {
	Kind   OutcomeKind
	Detail string // the log line that decided it, or why the client did not run
}

// OutcomeKind classifies a client attempt.
type OutcomeKind int

// The ways a client attempt ends.
const (
	// Connected: the client logged Initialization Sequence Completed.
	Connected OutcomeKind = iota
	// Refused: the server answered and refused the client (AUTH_FAILED,
	// a TLS error after the server's first packet, a connection reset).
	Refused
	// NoAnswer: the server never answered within the timeout.
	NoAnswer
	// Failed: the client could not run (binary missing, bad profile).
	Failed
)

func tunnelCheck(o Outcome) Check {
	c := Check{Name: CheckTunnel}
	switch o.Kind {
	case Connected:
		c.OK, c.Detail = true, "the probe got a tunnel"
	case Refused:
		c.Detail = "the valid probe was refused: " + o.Detail
	case NoAnswer:
		c.Detail = "no tunnel: the server did not answer (" + o.Detail + ")"
	default:
		c.Detail = "the probe client did not run: " + o.Detail
	}
	return c
}

func revokedCheck(o Outcome) Check {
	c := Check{Name: CheckRevoked}
	switch o.Kind {
	case Refused:
		c.OK, c.Detail = true, "the revoked probe was refused: "+o.Detail
	case Connected:
		c.Detail = "the revoked probe got a tunnel: the server does not apply the CRL"
	case NoAnswer:
		c.Detail = "not proven: the server did not answer (" + o.Detail + ")"
	default:
		c.Detail = "the probe client did not run: " + o.Detail
	}
	return c
}

// connect runs one client on profile until it connects, is refused,
// gives up or the timeout passes, and stops it.
func (p Probe) connect(ctx context.Context, profile []byte) Outcome {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dir, err := os.MkdirTemp("", "vpnkeys-selftest-")
	if err != nil {
		return Outcome{Failed, fmt.Sprintf("making a temporary folder: %v", err)}
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "probe.ovpn")
	if err := os.WriteFile(path, withRemote(profile, p.Remote), 0o600); err != nil {
		return Outcome{Failed, fmt.Sprintf("writing the probe profile: %v", err)}
	}
	// The handshake must fail well within the timeout for a refusal to
	// show; the server-poll timeout bounds an unanswered TCP connect.
	hand := strconv.Itoa(max(2, int(timeout.Seconds()*2/3)))
	bin := p.OpenVPN
	if bin == "" {
		bin = "openvpn"
	}
	// Options after --config win: whatever the profile says, the client
	// runs no external program (no up/down scripts, no ifconfig).
	cmd := exec.Command(bin, "--config", path, "--cd", dir, "--hand-window", hand,
		"--server-poll-timeout", hand, "--script-security", "0", "--verb", "3")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out logBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return Outcome{Failed, fmt.Sprintf("starting %s: %v", bin, err)}
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer stop(cmd, done)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if o, ok := classify(out.String(), false); ok {
			return o
		}
		select {
		case <-done:
			o, _ := classify(out.String(), true)
			return o
		case <-deadline.C:
			o, _ := classify(out.String(), true)
			return o
		case <-ctx.Done():
			return Outcome{Failed, context.Cause(ctx).Error()}
		case <-tick.C:
		}
	}
}

// stop ends the client's process group: SIGTERM, SIGKILL after 3 s.
func stop(cmd *exec.Cmd, done chan struct{}) {
	pgid := -cmd.Process.Pid
	syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(3 * time.Second):
	}
	syscall.Kill(pgid, syscall.SIGKILL)
	<-done
}

// logBuffer is the client's output, written by exec's copier and read
// by the poll loop.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// errNoLog is the detail of a client that printed nothing useful.
var errNoLog = errors.New("no answer within the timeout")
