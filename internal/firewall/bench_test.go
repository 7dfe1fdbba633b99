package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// fleet is 10,000 users in 100 groups of 3 rules each (a CIDR with tcp
// ports and a range, a host with udp, a CIDR with icmp); every user is in
// one group, every third in a second one too.
func fleet(b *testing.B) (Server, []Member, []access.Group) {
	srv := Server{Name: "dc1", Subnet: netip.MustParsePrefix("10.8.0.0/18"), Device: "tun0"}
	groups := make([]access.Group, 100)
	for g := range groups {
		groups[g] = access.Group{Name: fmt.Sprintf("group%03d", g), Rules: mustRules(b,
			fmt.Sprintf("10.%d.0.0/16:tcp/22,443,8000-8100", 100+g),
			fmt.Sprintf("10.%d.5.3:udp/53", 100+g),
			fmt.Sprintf("172.16.%d.0/24:icmp", g),
		)}
	}
	members := make([]Member, 10000)
	addr := netip.MustParseAddr("10.8.0.2")
	for i := range members {
		gs := []string{groups[i%100].Name}
		if i%3 == 0 {
			gs = append(gs, groups[(i*7+1)%100].Name)
		}
		members[i] = Member{User: fmt.Sprintf("user%05d", i), Address: addr, Groups: gs}
		addr = addr.Next()
	}
	return srv, members, groups
}

// BenchmarkRender10000 renders the ruleset and the 10,000 CCD files of
// one server (goal: under 100 ms).
func BenchmarkRender10000(b *testing.B) {
	srv, members, groups := fleet(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Render(srv, members, groups); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply10000 loads that ruleset with nft -f into a namespace's
// kernel, replacing the previous copy each time, as the agent does
// (goal: under 1 s).
func BenchmarkApply10000(b *testing.B) {
	nft := testenv.Nft(b)
	ip := testenv.LookPath(b, "/usr/sbin/ip", "/sbin/ip", "ip")
	ns := testenv.NewPlainNetns(b, "fw-bench")
	wrapper := filepath.Join(b.TempDir(), "nft")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+ip+" netns exec "+ns+" "+nft+" \"$@\"\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	ruleset, _, err := Render(fleet(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := Check(ctx, wrapper, ruleset); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ruleset)))
	for b.Loop() {
		if err := Apply(ctx, wrapper, ruleset); err != nil {
			b.Fatal(err)
		}
	}
}
