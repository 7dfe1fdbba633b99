package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// fleet is a company's setup in one test: a control plane (`vpnkeys
// serve --agent-listen`) and several OpenVPN servers, each with its own
// `vpnkeys agent` process, as separate datacenters would run them. The
// OpenVPN servers and their clients share one network namespace (three
// ports, three subnets, three management sockets); the agents run beside
// it and reach serve over loopback and OpenVPN over its unix socket.
type fleet struct {
	root      testing.TB // the test the processes live as long as
	ns        *netns
	base      string
	data      string
	env       []string
	serveArgs []string
	agentAddr string
	serve     *testenv.Proc
	dcs       []*datacenter
}

// datacenter is one OpenVPN server with its agent.
type datacenter struct {
	name  string
	port  int
	dir   string // the server folder the agent keeps
	state string // the agent's state folder
	agent *testenv.Proc
	vpn   *testenv.Proc
	// ns is the datacenter's own namespace (nil: the fleet's shared one),
	// agentArgs more `agent run` flags; set by newFleetWith's prepare.
	ns        *netns
	agentArgs []string
}

// newFleet initialises a CA, registers n servers, starts serve with an
// agent listener, enrols and starts an agent per server, and starts each
// OpenVPN server from the files its agent wrote. extraEnv is added to
// every vpnkeys process (a PostgreSQL DSN, for instance).
func newFleet(t testing.TB, n int, extraEnv ...string) *fleet {
	t.Helper()
	return newFleetWith(t, n, nil, extraEnv...)
}

// newFleetWith is newFleet calling prepare (when not nil) for each
// datacenter before its agent and OpenVPN start: to give it a namespace
// of its own, or agent flags.
func newFleetWith(t testing.TB, n int, prepare func(testing.TB, *datacenter), extraEnv ...string) *fleet {
	t.Helper()
	f := &fleet{root: t, ns: &netns{testenv.NewNetns(t, "fleet")}, base: t.TempDir()}
	traversable(t, f.base)
	f.data = filepath.Join(f.base, "data")
	run := filepath.Join(f.base, "run")
	// As systemd-tmpfiles makes /run/vpnkeys-agent at boot: OpenVPN may
	// start before the agent's first sweep would make it.
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	f.env = append([]string{"VPNKEYS_DATA=" + f.data, "VPNKEYS_CA_PASSPHRASE=fleet e2e passphrase",
		"VPNKEYS_AGENT_RUN_DIR=" + run}, extraEnv...)
	mustRun(t, f.env, "init")
	for i := range n {
		d := &datacenter{name: fmt.Sprintf("dc%d", i+1), port: 11960 + i}
		d.dir = filepath.Join(f.base, d.name, "server")
		d.state = filepath.Join(f.base, d.name, "agent")
		mustRun(t, f.env, "server", "add", d.name, "--remote", fmt.Sprintf("127.0.0.1:%d/udp", d.port),
			"--subnet", fmt.Sprintf("10.%d.0.0/24", 60+i))
		if prepare != nil {
			prepare(t, d)
		}
		f.dcs = append(f.dcs, d)
	}
	f.agentAddr = freeAddr(t)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("serve:\n%s", tail(f.serve.Log(), 60))
		for _, d := range f.dcs {
			if d.agent != nil {
				t.Logf("agent of %s:\n%s", d.name, tail(d.agent.Log(), 60))
			}
		}
	})
	f.startServe(t)
	for _, d := range f.dcs {
		tok := filepath.Join(f.base, d.name+".token")
		mustRun(t, f.env, "server", "enroll", d.name, "--token-file", tok)
		mustRun(t, f.env, "agent", "join", "https://"+f.agentAddr, "--token-file", tok, "--state", d.state)
		f.startAgent(t, d)
	}
	for _, d := range f.dcs {
		waitFile(t, filepath.Join(d.dir, "server.conf"), d.agent)
		traversable(t, d.dir)
		d.vpn = f.nsOf(d).startServer(t, d.dir)
	}
	return f
}

// startServe starts (or restarts) serve on the same agent address; it
// runs until the whole test ends, even when a subtest restarted it.
func (f *fleet) startServe(t testing.TB) {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--agent-listen", f.agentAddr}, f.serveArgs...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), f.env...)
	f.serve = testenv.Background(f.root, cmd)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", f.agentAddr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || f.serve.Exited(0) {
			t.Fatalf("serve's agent listener %s did not come up:\n%s", f.agentAddr, f.serve.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *fleet) startAgent(t testing.TB, d *datacenter) {
	t.Helper()
	args := append([]string{"agent", "run", "--state", d.state, "--dir", d.dir, "--report-interval", "1s"}, d.agentArgs...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), f.env...)
	d.agent = testenv.Background(t, cmd)
}

// nsOf is the namespace d's OpenVPN server runs in.
func (f *fleet) nsOf(d *datacenter) *netns {
	if d.ns != nil {
		return d.ns
	}
	return f.ns
}

// profileFor is user's profile narrowed to one server, so a client
// connects to that datacenter only.
func (f *fleet) profileFor(t testing.TB, profile string, d *datacenter) string {
	t.Helper()
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "remote ") && !strings.Contains(line, fmt.Sprintf(" %d ", d.port)) {
			continue
		}
		keep = append(keep, line)
	}
	p := filepath.Join(t.TempDir(), d.name+"-"+filepath.Base(profile))
	if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dial connects a client with profile (USER.ovpn) to d and leaves it
// running, once d's agent wrote the user's client-config file (without
// it, ccd-exclusive refuses the user).
func (f *fleet) dial(t testing.TB, profile string, d *datacenter) *testenv.Proc {
	t.Helper()
	waitFile(t, filepath.Join(d.dir, "ccd", strings.TrimSuffix(filepath.Base(profile), ".ovpn")), d.agent)
	p := f.ns.OpenVPN(t, "--config", f.profileFor(t, profile, d), "--dev", "null", "--ifconfig-noexec",
		"--route-noexec", "--verb", "3")
	if p.WaitFor(30*time.Second, ready, "Exiting due to fatal error") != ready {
		t.Fatalf("client %s could not connect to %s:\n%s\nserver:\n%s", filepath.Base(profile), d.name, p.Log(), d.vpn.Log())
	}
	return p
}

// halted is the client's log line after a client-kill HALT.
const halted = "Halt command was pushed by server"

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFile waits for path to exist, showing p's log when it does not.
func waitFile(t testing.TB, path string, p *testenv.Proc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear:\n%s", path, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
