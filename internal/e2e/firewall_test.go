package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The office's servers, and what each group may reach of them.
var fwTargets = []string{"tcp/10.1.0.10:22", "udp/10.1.0.10:53", "tcp/10.2.0.10:443"}

// TestFirewallEveryDatacenter: three real OpenVPN 2.6 servers, each in a
// namespace of its own with its real agent loading real nftables; alice
// (group devs) and bob (group sales) connect to all three through real
// tun devices. A probe matrix shows each reaches exactly what their group
// allows, on every server. Moving bob from sales to devs changes the
// matrix on every server without reconnecting him, and his established
// TCP connection to sales' server stops passing data.
func TestFirewallEveryDatacenter(t *testing.T) {
	l := newFwLab(t)
	f := newFleetWith(t, 3, l.prepare)
	l.serve(t, fwTargets...)
	mustRun(t, f.env, "group", "add", "devs", "--allow", "10.1.0.10:tcp/22", "--allow", "10.1.0.10:udp/53")
	mustRun(t, f.env, "group", "add", "sales", "--allow", "10.2.0.10:tcp/443")
	mustRun(t, f.env, "add", "alice", "--group", "devs")
	mustRun(t, f.env, "add", "bob", "--group", "sales")
	var clients, bobs []*vpnClient
	for _, d := range f.dcs {
		for _, u := range []string{"alice", "bob"} {
			c := l.connect(t, f, u, filepath.Join(f.data, "bundles", u, u+".ovpn"), d)
			clients = append(clients, c)
			if u == "bob" {
				bobs = append(bobs, c)
			}
		}
	}
	l.waitMembers(t, clients)
	checkMatrix(t, clients, map[string][]bool{"alice": {true, true, false}, "bob": {false, false, true}})

	var held []heldConn
	for _, c := range bobs {
		conn, err := c.dial("tcp/10.2.0.10:443", 5*time.Second)
		if err != nil || !exchange(conn, "before the move", 5*time.Second) {
			t.Fatalf("bob's connection to sales' server on %s: %v", c.d.name, err)
		}
		defer conn.Close()
		held = append(held, heldConn{c, conn})
	}
	start := time.Now()
	mustRun(t, f.env, "group", "members", "remove", "sales", "bob")
	mustRun(t, f.env, "group", "members", "add", "devs", "bob")
	added := time.Now()
	took := waitReach(t, bobs, "udp/10.1.0.10:53", added)
	var line []string
	for i, c := range bobs {
		line = append(line, fmt.Sprintf("%s %v", c.d.name, took[i].Round(time.Millisecond)))
	}
	t.Logf("membership change in force (bob reaches devs' server) after the add returned: %s; both commands took %v",
		strings.Join(line, ", "), added.Sub(start).Round(time.Millisecond))
	for _, h := range held {
		if exchange(h.conn, "after the move", denyWait) {
			t.Errorf("bob's established connection to sales' server still passes data on %s", h.c.d.name)
		}
	}
	checkMatrix(t, clients, map[string][]bool{"alice": {true, true, false}, "bob": {true, true, false}})
	for _, c := range bobs {
		if c.proc.Exited(0) || strings.Count(c.proc.Log(), ready) != 1 {
			t.Errorf("bob's client on %s reconnected or ended:\n%s", c.d.name, c.proc.Log())
		}
	}
}

// heldConn is a client's connection kept open across a change.
type heldConn struct {
	c    *vpnClient
	conn net.Conn
}

// checkMatrix probes every target from every client at once and compares
// with want (user -> reached, in fwTargets order).
func checkMatrix(t *testing.T, clients []*vpnClient, want map[string][]bool) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	got := map[string][]bool{}
	for _, c := range clients { // the map is whole before any probe writes to it
		got[c.user+"@"+c.d.name] = make([]bool, len(fwTargets))
	}
	for _, c := range clients {
		key := c.user + "@" + c.d.name
		for i, tg := range fwTargets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := c.probe(tg)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				got[key][i] = ok
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, c := range clients {
		key := c.user + "@" + c.d.name
		for i, tg := range fwTargets {
			if got[key][i] != want[c.user][i] {
				t.Errorf("%s (%s) -> %s: got reached=%v, want %v", key, c.addr, tg, got[key][i], want[c.user][i])
			}
		}
	}
	if t.Failed() {
		for _, c := range clients[:1] {
			out, _ := exec.Command(c.d.agentArgs[1], "list", "ruleset").CombinedOutput()
			t.Logf("ruleset on %s:\n%s", c.d.name, out)
		}
		t.FailNow()
	}
}

// waitMembers waits until every client's address is in its server's
// ruleset (the agent loaded the state with the user in it).
func (l *fwLab) waitMembers(t testing.TB, clients []*vpnClient) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range clients {
		for {
			out, _ := exec.Command(c.d.agentArgs[1], "list", "map", "inet", "vpnkeys", "members").CombinedOutput()
			if strings.Contains(string(out), c.addr.String()+" : jump") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's address %s not in %s's ruleset:\n%s\nagent:\n%s", c.user, c.addr, c.d.name, out, c.d.agent.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// waitReach sends a datagram to target from each client every 20 ms until
// one is echoed, and returns how long after since each got through.
func waitReach(t testing.TB, clients []*vpnClient, target string, since time.Time) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := c.dial(target, time.Second)
			if err != nil {
				t.Errorf("%s on %s: %v", c.user, c.d.name, err)
				return
			}
			defer conn.Close()
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
				if exchange(conn, "reach", 20*time.Millisecond) {
					took[i] = time.Since(since)
					return
				}
			}
			t.Errorf("%s never reached %s on %s", c.user, target, c.d.name)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return took
}

// BenchmarkMembershipToRule: the time from `vpnkeys group members add`
// returning to the new rule in force on three real servers (a datagram
// from the user's VPN address, through the tunnel, reaches the newly
// allowed office server on each). Each iteration adds bob to a fresh
// group allowing a fresh port; median and worst are reported. Run it with
//
//	go test ./internal/e2e -run '^$' -bench MembershipToRule -benchtime 7x
func BenchmarkMembershipToRule(b *testing.B) {
	l := newFwLab(b)
	f := newFleetWith(b, 3, l.prepare)
	mustRun(b, f.env, "add", "bob")
	var bobs []*vpnClient
	for _, d := range f.dcs {
		bobs = append(bobs, l.connect(b, f, "bob", filepath.Join(f.data, "bundles", "bob", "bob.ovpn"), d))
	}
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		g, target := fmt.Sprintf("g%d", i), fmt.Sprintf("udp/10.1.0.10:%d", 6000+i)
		l.serve(b, target)
		mustRun(b, f.env, "group", "add", g, "--allow", fmt.Sprintf("10.1.0.10:udp/%d", 6000+i))
		b.StartTimer()
		mustRun(b, f.env, "group", "members", "add", g, "bob")
		start := time.Now()
		took = append(took, slices.Max(waitReach(b, bobs, target, start)))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "ms-median")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "ms-worst")
	b.ReportMetric(0, "ns/op")
}

// TestCCDExclusive: the generated server.conf refuses a user whose
// client-config file is missing (ccd-exclusive), even with a valid
// certificate; `vpnkeys add` after `server files` wrote the new user's
// file into that folder, so they connect.
func TestCCDExclusive(t *testing.T) {
	ns := newNetns(t)
	base := t.TempDir()
	traversable(t, base)
	data := filepath.Join(base, "data")
	env := withRunDir(t, []string{"VPNKEYS_DATA=" + data, "VPNKEYS_CA_PASSPHRASE=ccd e2e passphrase"})
	mustRun(t, env, "init")
	mustRun(t, env, "server", "add", "dc1", "--remote", "127.0.0.1:11943/udp")
	srvDir := filepath.Join(base, "server")
	mustRun(t, env, "server", "files", "dc1", "--out", srvDir)
	mustRun(t, env, "add", "alice", "bob")
	srv := ns.startServer(t, srvDir)
	if err := os.Remove(filepath.Join(srvDir, "ccd", "alice")); err != nil {
		t.Fatalf("alice's client-config file, written by add: %v", err)
	}
	if ok, log := ns.connect(t, filepath.Join(data, "bundles", "alice", "alice.ovpn")); ok {
		t.Fatalf("alice connected without a client-config file:\n%s", log)
	}
	if srv.WaitFor(5*time.Second, "client-config-dir authentication failed") == "" {
		t.Errorf("server did not log the ccd-exclusive refusal:\n%s", srv.Log())
	}
	if ok, log := ns.connect(t, filepath.Join(data, "bundles", "bob", "bob.ovpn")); !ok {
		t.Fatalf("bob could not connect:\n%s\nserver:\n%s", log, srv.Log())
	}
}
