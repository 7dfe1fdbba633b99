package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// The restart window (`agent run --restart-window HH:MM-HH:MM`, the agent
// host's local time, wrapping midnight when the end is before the start):
// new files are written at once, as always, but a restart of OpenVPN that
// they need (a RestartFiles file changed: a renewed server certificate, a
// CA rollover's ca.crt) is held until the window opens, then run once for
// however many changes came meanwhile. What is pending is kept in the
// state folder (PendingFile), so it survives a restart of the agent. One
// exception: when the certificate OpenVPN runs with ends before the window
// opens, the restart runs at once; OpenVPN never runs on an expired one.

// PendingFile, in the state folder, records a held-back restart.
const PendingFile = "restart-pending.json"

// Window is a daily restart window in local time.
type Window struct {
	start, end int // minutes after midnight; end may be before start
}

// ParseWindow reads HH:MM-HH:MM ("" is no window: restart at once).
func ParseWindow(s string) (*Window, error) {
	if s == "" {
		return nil, nil
	}
	bad := fmt.Errorf("%w: restart window %q: want HH:MM-HH:MM in the host's local time, such as 02:00-04:00 or 23:00-01:30", ErrInvalid, s)
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return nil, bad
	}
	a, err1 := parseClock(from)
	b, err2 := parseClock(to)
	if err1 != nil || err2 != nil || a == b {
		return nil, bad
	}
	return &Window{start: a, end: b}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, errors.New("not HH:MM")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, errors.New("not HH:MM")
	}
	return hh*60 + mm, nil
}

// Contains tells whether t (in its own location) is inside the window.
func (w *Window) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if w.start < w.end {
		return m >= w.start && m < w.end
	}
	return m >= w.start || m < w.end
}

// NextOpen is when the window next opens at or after t (t itself when
// inside it).
func (w *Window) NextOpen(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	y, mo, d := t.Date()
	open := time.Date(y, mo, d, w.start/60, w.start%60, 0, 0, t.Location())
	if !open.After(t) {
		open = time.Date(y, mo, d+1, w.start/60, w.start%60, 0, 0, t.Location())
	}
	return open
}

// pending is a held-back restart, as PendingFile keeps it.
type pending struct {
	Since time.Time `json:"since"`
	// RunningEnd is when the server certificate OpenVPN runs with ends
	// (the one on disk before the first held change); zero: unknown.
	RunningEnd time.Time `json:"running_end,omitzero"`
	Changed    []string  `json:"changed"`
}

// Gate holds restarts outside a Window. Its methods are safe on a nil
// Gate (no window: restart at once).
type Gate struct {
	w        *Window
	stateDir string
	now      func() time.Time

	mu      sync.Mutex
	p       *pending
	running time.Time // set by observe, before new files replace the old
}

// NewGate returns the gate of w (nil when w is nil), with what is pending
// read from stateDir. now is the clock (time.Now when nil).
func NewGate(w *Window, stateDir string, now func() time.Time) (*Gate, error) {
	if w == nil {
		return nil, nil
	}
	if now == nil {
		now = time.Now
	}
	g := &Gate{w: w, stateDir: stateDir, now: now}
	b, err := os.ReadFile(filepath.Join(stateDir, PendingFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", PendingFile, err)
	default:
		var p pending
		if err := json.Unmarshal(b, &p); err != nil || p.Since.IsZero() {
			return nil, fmt.Errorf("reading %s: not a pending restart", PendingFile)
		}
		g.p = &p
	}
	return g, nil
}

// Since is when the pending restart was first held back; zero when none.
func (g *Gate) Since() time.Time {
	if g == nil {
		return time.Time{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p == nil {
		return time.Time{}
	}
	return g.p.Since
}

// observe notes the end of the server certificate in dir, which OpenVPN
// runs with unless a restart is pending; call it before new files move in.
func (g *Gate) observe(dir string) {
	if g == nil {
		return
	}
	end := time.Time{}
	if b, err := os.ReadFile(filepath.Join(dir, "server.crt")); err == nil {
		if c, err := parseCertPEM(b); err == nil {
			end = c.NotAfter
		}
	}
	g.mu.Lock()
	g.running = end
	g.mu.Unlock()
}

// hold tells whether a restart that changed needs is held back now; if
// so it is recorded as pending. It is not held inside the window, nor
// when the running certificate (unknown: none) ends before the window
// opens.
func (g *Gate) hold(changed []string) (bool, error) {
	if g == nil {
		return false, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	running := g.running
	if g.p != nil {
		running = g.p.RunningEnd
	}
	if g.w.Contains(now) || running.IsZero() || !running.After(g.w.NextOpen(now)) {
		return false, nil
	}
	p := pending{Since: now, RunningEnd: running}
	if g.p != nil {
		p = *g.p
	}
	for _, n := range changed {
		if !slices.Contains(p.Changed, n) {
			p.Changed = append(p.Changed, n)
		}
	}
	b, _ := json.Marshal(p)
	if err := safefile.WriteFile(filepath.Join(g.stateDir, PendingFile), b, safefile.SecretMode); err != nil {
		return false, fmt.Errorf("recording the pending restart: %w", err)
	}
	g.p = &p
	return true, nil
}

// due takes the pending restart when it is to run now: inside the window,
// or once the running certificate has ended. It forgets it, on disk too.
func (g *Gate) due() (changed []string, ok bool) {
	if g == nil {
		return nil, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p == nil {
		return nil, false
	}
	now := g.now()
	if !g.w.Contains(now) && (g.p.RunningEnd.IsZero() || now.Before(g.p.RunningEnd)) {
		return nil, false
	}
	changed = g.p.Changed
	g.forget()
	return changed, true
}

// done forgets a pending restart once a restart ran. Call with g.mu
// not held.
func (g *Gate) done() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forget()
}

func (g *Gate) forget() {
	if g.p == nil {
		return
	}
	g.p = nil
	os.Remove(filepath.Join(g.stateDir, PendingFile))
}

// RestartIfDue runs the held-back restart once its time came (the window
// opened, or the running certificate ended). It reports whether it ran.
func (ap *Applier) RestartIfDue(ctx context.Context) (bool, error) {
	changed, ok := ap.Gate.due()
	if !ok || ap.RestartCommand == "" {
		return false, nil
	}
	ap.logger().Info("restart window open: running the held-back restart", "changed", strings.Join(changed, ","))
	return true, ap.restart(ctx, changed)
}

// windowCheck is how often the agent looks whether a held-back restart
// is due.
const windowCheck = 30 * time.Second

// restartGate is the Gate of cfg's restart window (nil without one).
func restartGate(cfg Config) (*Gate, error) {
	w, err := ParseWindow(cfg.RestartWindow)
	if err != nil {
		return nil, err
	}
	return NewGate(w, cfg.StateDir, cfg.Now)
}

// restartIfDue runs a held-back restart whose time came, and reports.
func (r *runner) restartIfDue(ctx context.Context) {
	r.mu.Lock()
	ran, err := r.applier.RestartIfDue(ctx)
	if err != nil {
		r.failed(err, r.st.Version)
	}
	r.mu.Unlock()
	if ran {
		r.queueReport()
	}
}
