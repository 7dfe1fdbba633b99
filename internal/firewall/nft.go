package firewall

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/access"
)

// ruleset writes the nftables file (see the package comment for its
// layout).
func (p *plan) ruleset() string {
	var b strings.Builder
	b.Grow(4096 + 48*len(p.members) + 96*len(p.sets))
	sn := p.server.Subnet.String()
	b.WriteString("# vpnkeys firewall of server " + p.server.Name + " (tunnel " + sn + "), written by vpnkeys: do not edit.\n" +
		"# `nft -f` loads it as one transaction that replaces table " + Table + " and nothing else.\n" +
		"table " + Table + "\n" +
		"delete table " + Table + "\n" +
		"table " + Table + " {\n")
	p.writeMembers(&b)
	b.WriteString("\n\tchain forward {\n" +
		"\t\ttype filter hook forward priority filter; policy accept;\n" +
		"\t\t# each address of the tunnel: the chain of its user's groups; what they do not accept is dropped\n" +
		"\t\tip saddr " + sn + " ip saddr vmap @members\n" +
		"\t\tip saddr " + sn + " drop\n")
	if d := p.server.Device; d != "" {
		b.WriteString("\t\t# users have no IPv6 addresses: nothing from the tunnel over IPv6 is theirs\n" +
			"\t\tiifname \"" + d + "\" meta nfproto ipv6 drop\n")
	} else {
		b.WriteString("\t\t# no tun device named: IPv6 is not judged here (OpenVPN without an IPv6 pool forwards none from clients)\n")
	}
	b.WriteString("\t}\n")
	for i, set := range p.sets {
		b.WriteString("\n\t# groups " + strings.ReplaceAll(set, ",", ", ") + "\n" +
			"\tchain " + setChain(i) + " {\n")
		for _, g := range strings.Split(set, ",") {
			b.WriteString("\t\tjump group-" + g + "\n")
		}
		b.WriteString("\t\t# ICMP errors about the user's own flows (path MTU); never their data\n" +
			"\t\tct state related accept\n" +
			"\t\tdrop\n" +
			"\t}\n")
	}
	for _, g := range p.groups {
		b.WriteString("\n\tchain group-" + g.Name + " {\n")
		for _, r := range g.Rules {
			b.WriteString("\t\t" + nftRule(r) + " accept # " + r.String() + "\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// writeMembers writes the map from each member's address to their group
// set's chain; members in no group are left out (their traffic is dropped).
func (p *plan) writeMembers(b *strings.Builder) {
	b.WriteString("\tmap members {\n\t\ttype ipv4_addr : verdict\n")
	byAddr := make([]int, 0, len(p.members))
	for i, m := range p.members {
		if len(m.Groups) > 0 {
			byAddr = append(byAddr, i)
		}
	}
	if len(byAddr) == 0 {
		b.WriteString("\t}\n")
		return
	}
	sortByAddr(byAddr, p.members)
	b.WriteString("\t\telements = {\n")
	for _, i := range byAddr {
		m := p.members[i]
		b.WriteString("\t\t\t" + m.Address.String() + " : jump " + setChain(p.setOf[strings.Join(m.Groups, ",")]) + ", # " + m.User + "\n")
	}
	b.WriteString("\t\t}\n\t}\n")
}

func sortByAddr(idx []int, members []Member) {
	slices.SortFunc(idx, func(a, b int) int { return members[a].Address.Compare(members[b].Address) })
}

// setChain names the chain of the i-th group set.
func setChain(i int) string { return "set-" + strconv.Itoa(i+1) }

// nftRule is the match part of an accept rule for r.
func nftRule(r access.Rule) string {
	fam, icmp := "ip", "icmp"
	if r.Net.Addr().Is6() {
		fam, icmp = "ip6", "ipv6-icmp"
	}
	s := fam + " daddr " + dest(r.Net)
	switch {
	case r.Proto == "":
		return s
	case r.Proto == access.ICMP:
		return s + " meta l4proto " + icmp
	case len(r.Ports) == 0:
		return s + " meta l4proto " + r.Proto
	}
	ports := make([]string, len(r.Ports))
	for i, pr := range r.Ports {
		ports[i] = pr.String()
	}
	return s + " " + r.Proto + " dport { " + strings.Join(ports, ", ") + " }"
}

func dest(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}
