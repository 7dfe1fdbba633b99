package testenv

import (
	"os/exec"
	"testing"
)

// Background starts cmd with its output kept, as a Proc (Log, WaitFor,
// Exited, Stop), and stops it when the test ends: for vpnkeys' own
// long-running processes (serve, agent) beside OpenVPN.
func Background(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	return p
}
