package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// netns is a network namespace of the test's own (testenv.Netns) with
// the steps these tests take in it.
type netns struct{ *testenv.Netns }

func newNetns(t *testing.T) *netns { return &netns{testenv.NewNetns(t, "vpnkeys")} }

const ready = "Initialization Sequence Completed"

// startServer runs the server.conf in dir as written (from dir, as
// Debian's openvpn-server@ unit does with --cd).
func (n *netns) startServer(t testing.TB, dir string) *testenv.Proc {
	t.Helper()
	p := n.OpenVPN(t, "--cd", dir, "--config", "server.conf")
	if p.WaitFor(20*time.Second, ready) == "" {
		t.Fatalf("server did not start:\n%s", p.Log())
	}
	return p
}

// connect runs a client on profile as shipped, with only the device
// overridden (and shorter timeouts), and reports whether it completed the
// handshake. A server that does not answer is left after 3 s for the
// profile's next remote; a refused handshake ends the attempt.
func (n *netns) connect(t *testing.T, profile string) (bool, string) {
	t.Helper()
	p := n.OpenVPN(t, "--config", profile, "--dev", "null", "--ifconfig-noexec", "--route-noexec",
		"--server-poll-timeout", "3", "--hand-window", "5", "--connect-retry-max", "1", "--verb", "3")
	ok := p.WaitFor(30*time.Second, ready, "Exiting due to fatal error", "TLS handshake failed") == ready
	p.Stop()
	return ok, p.Log()
}

// traversable opens dir and its parents to "other" so OpenVPN, running as
// nobody after its privilege drop, can re-read crl.pem (t.TempDir makes
// 0700 folders).
func traversable(t testing.TB, dir string) {
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

// runDirs holds each test's agent run folder (runDir).
var runDirs sync.Map // testing.TB -> string

// runDir is the test's own agent run folder (authority.Options.AgentRunDir,
// VPNKEYS_AGENT_RUN_DIR): the generated server.conf puts OpenVPN's
// management socket there, and OpenVPN exits at start when the folder is
// missing. Short (a unix socket path holds 107 bytes) and open to others,
// as /run/vpnkeys-agent is.
func runDir(t testing.TB) string {
	if d, ok := runDirs.Load(t); ok {
		return d.(string)
	}
	d, err := os.MkdirTemp("", "vpnk-run-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d); runDirs.Delete(t) })
	runDirs.Store(t, d)
	return d
}

// withRunDir adds the test's VPNKEYS_AGENT_RUN_DIR to env unless env sets one.
func withRunDir(t testing.TB, env []string) []string {
	if slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "VPNKEYS_AGENT_RUN_DIR=") }) {
		return env
	}
	return append(slices.Clip(env), "VPNKEYS_AGENT_RUN_DIR="+runDir(t))
}
