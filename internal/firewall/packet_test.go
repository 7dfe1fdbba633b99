package firewall

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// The office's services the probes try; every one answers when no
// ruleset is loaded.
var targets = []string{
	"tcp/10.1.0.10:22", "tcp/10.1.0.10:8080", "tcp/10.1.0.10:9000", "tcp/10.1.0.20:22",
	"tcp/10.2.0.10:22", "udp/10.1.0.10:53", "udp/10.1.0.20:53", "icmp/10.2.0.10", "icmp/10.1.0.10",
	"tcp/[fd00:1::10]:22",
}

// The client namespace's addresses: alice, bob, carol (in no group) and
// one nobody holds; and the laptop's IPv6 address.
var (
	alice   = netip.MustParseAddr("10.8.0.2")
	bob     = netip.MustParseAddr("10.8.0.3")
	carol   = netip.MustParseAddr("10.8.0.4")
	nobody  = netip.MustParseAddr("10.8.0.9")
	laptop6 = netip.MustParseAddr("fd00:8::2")
)

type matrix map[string]bool // "SRC TARGET" -> reached

// measure probes every source against every target at once.
func (l *lab) measure(t *testing.T) matrix {
	t.Helper()
	m := matrix{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed error
	for _, src := range []netip.Addr{alice, bob, carol, nobody, laptop6} {
		for _, tg := range targets {
			if src.Is6() != strings.Contains(tg, "[") {
				continue
			}
			wg.Go(func() {
				ok, err := l.probe(src, tg)
				mu.Lock()
				defer mu.Unlock()
				m[src.String()+" "+tg] = ok
				if err != nil {
					failed = err
				}
			})
		}
	}
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	return m
}

// want is the matrix access.Decide predicts for who is in which group:
// the kernel must enforce exactly what `vpnkeys access check` answers.
func want(members []Member, groups []access.Group) matrix {
	byName := map[string]access.Group{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	m := matrix{}
	for _, src := range []netip.Addr{alice, bob, carol, nobody, laptop6} {
		var gs []access.Group
		for _, mb := range members {
			if mb.Address == src {
				for _, g := range mb.Groups {
					gs = append(gs, byName[g])
				}
			}
		}
		for _, tg := range targets {
			if src.Is6() != strings.Contains(tg, "[") {
				continue
			}
			proto, hostport, _ := strings.Cut(tg, "/")
			if proto == "icmp" {
				hostport += ":0"
			}
			ap := netip.MustParseAddrPort(hostport)
			ok, _, _ := access.Decide(gs, ap.Addr(), proto, ap.Port())
			if src.Is6() {
				ok = false // users have no IPv6 addresses: the tunnel's IPv6 is dropped
			}
			m[src.String()+" "+tg] = ok
		}
	}
	return m
}

func diff(t *testing.T, stage string, got, want matrix) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s: got reached=%v, want %v", stage, k, got[k], w)
		}
	}
}

func allTrue(m matrix) bool {
	for _, v := range m {
		if !v {
			return false
		}
	}
	return len(m) > 0
}

// TestPacketMatrix loads rendered rulesets into a real kernel's nftables
// and sends real TCP and UDP through it: each VPN address reaches exactly
// what its groups allow; moving alice to another group changes that and
// stops her established connection that is no longer allowed; a ruleset
// the kernel refuses leaves the previous one in force.
func TestPacketMatrix(t *testing.T) {
	l := newLab(t)
	l.serve(t, targets)
	ctx := context.Background()
	groups := []access.Group{
		{Name: "developers", Rules: mustRules(t, "10.1.0.10:tcp/22,8000-8100", "10.1.0.10:udp/53")},
		{Name: "ops", Rules: mustRules(t, "10.1.0.20:tcp", "10.2.0.0/16:icmp", "10.2.0.10:tcp/22")},
	}
	srv := Server{Name: "dc1", Subnet: netip.MustParsePrefix("10.8.0.0/24"), Device: "r0"}
	members := []Member{
		{User: "alice", Address: alice, Groups: []string{"developers"}},
		{User: "bob", Address: bob, Groups: []string{"ops"}},
		{User: "carol", Address: carol},
	}
	// The host's own firewall table, which vpnkeys must never touch.
	host := "table inet hostfw {\n\tchain hostforward {\n\t\ttype filter hook forward priority 10; policy accept;\n\t\tcounter\n\t}\n}\n"
	if err := Apply(ctx, l.nft, host); err != nil {
		t.Fatal(err)
	}

	if base := l.measure(t); !allTrue(base) {
		t.Fatalf("without a ruleset every probe must answer; got %v", base)
	}

	ruleset, _, err := Render(srv, members, groups)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, l.nft, ruleset); err != nil {
		t.Fatal(err)
	}
	diff(t, "alice in developers", l.measure(t), want(members, groups))

	members[0].Groups = []string{"ops"}
	l.moveAlice(t, func() {
		moved, _, err := Render(srv, members, groups)
		if err != nil {
			t.Fatal(err)
		}
		if err := Apply(ctx, l.nft, moved); err != nil {
			t.Fatal(err)
		}
	})
	wantMoved := want(members, groups)
	diff(t, "alice moved to ops", l.measure(t), wantMoved)

	t.Run("fail/refused ruleset leaves the old one", func(t *testing.T) {
		members[0].Groups = []string{"developers"}
		back, _, err := Render(srv, members, groups)
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(back, "\tchain forward {\n", "\tchain forward {\n\t\tip saddr 10.8.0.0/24 bogus\n", 1)
		err = Apply(ctx, l.nft, bad)
		if err == nil || !strings.Contains(err.Error(), "Error:") || !strings.Contains(err.Error(), "bogus") {
			t.Fatalf("got %v, want nft's error naming the bad line", err)
		}
		diff(t, "after a refused ruleset", l.measure(t), wantMoved)
	})

	out, err := runNftOut(ctx, l.nft, "list", "table", "inet", "hostfw")
	if err != nil || !strings.Contains(out, "counter packets") {
		t.Errorf("the host's table: got %q, %v; want it untouched", out, err)
	}
	if n := countPackets(out); n == 0 {
		t.Errorf("the host's table counted %d packets, want some: it must still see the traffic", n)
	}

	t.Run("ok/remove takes only vpnkeys' table, twice", func(t *testing.T) {
		for range 2 {
			if err := Remove(ctx, l.nft); err != nil {
				t.Fatal(err)
			}
		}
		out, err := runNftOut(ctx, l.nft, "list", "tables")
		if err != nil || strings.Contains(out, "vpnkeys") || !strings.Contains(out, "hostfw") {
			t.Fatalf("got tables %q, %v; want hostfw and no vpnkeys", out, err)
		}
	})
}

func TestApplyErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("fail/no nft binary", func(t *testing.T) {
		err := Apply(ctx, "/nonexistent/nft", "table inet vpnkeys\n")
		if err == nil || !strings.Contains(err.Error(), "running /nonexistent/nft") {
			t.Fatalf("got %v, want the failure to run nft", err)
		}
	})
	t.Run("fail/check names the bad line", func(t *testing.T) {
		nft := testenv.Nft(t)
		err := Check(ctx, nft, "table inet vpnkeys {\n\tchain c {\n\t\tip daddr 10.0.0.0/33 accept\n\t}\n}\n")
		if err == nil || !strings.Contains(err.Error(), "checking nftables ruleset: nft refused it: /dev/stdin:3") {
			t.Fatalf("got %v, want nft's message with the line", err)
		}
	})
}

// moveAlice opens a connection for alice to a port only developers may
// reach and one for bob to a port ops may reach, runs apply (which moves
// alice from developers to ops), and checks that alice's connection no
// longer carries data (the office never gets it) while bob's does.
func (l *lab) moveAlice(t *testing.T, apply func()) {
	t.Helper()
	aliceConn, err := l.dial(alice, "tcp/10.1.0.10:22")
	if err != nil {
		t.Fatal(err)
	}
	defer aliceConn.Close()
	bobConn, err := l.dial(bob, "tcp/10.1.0.20:22")
	if err != nil {
		t.Fatal(err)
	}
	defer bobConn.Close()
	if !exchange(aliceConn, "alice before") || !exchange(bobConn, "bob before") {
		t.Fatal("established connections carry no data before the change")
	}
	apply()
	if exchange(aliceConn, "alice after") || l.officeGot("tcp/10.1.0.10:22", "alice after") {
		t.Error("alice's established connection to 10.1.0.10:22 still carries data after she left developers")
	}
	if !exchange(bobConn, "bob after") {
		t.Error("bob's established connection stopped, though ops still allows it")
	}
}

func countPackets(listing string) int {
	_, rest, ok := strings.Cut(listing, "counter packets ")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(rest)[0])
	return n
}
