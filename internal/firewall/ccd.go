package firewall

import (
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ccd writes one client-config file per member.
func (p *plan) ccd() map[string][]byte {
	out := make(map[string][]byte, len(p.members))
	mask := dotted(p.server.Subnet.Bits())
	pushed := make(map[string]string, len(p.sets)) // group set -> its push lines
	for _, m := range p.members {
		set := strings.Join(m.Groups, ",")
		lines, ok := pushed[set]
		if !ok {
			var b strings.Builder
			for _, r := range p.routesOf(m.Groups) {
				if r.Bits() == 0 {
					// Everything (0.0.0.0/0, allowed only on purpose): a pushed
					// default route would swallow the tunnel's own packets;
					// def1 keeps a route to the server outside it.
					b.WriteString("push \"redirect-gateway def1\"\n")
					continue
				}
				b.WriteString(`push "route ` + r.Addr().String() + " " + dotted(r.Bits()) + "\"\n")
			}
			lines = b.String()
			pushed[set] = lines
		}
		groups := "none"
		if len(m.Groups) > 0 {
			groups = strings.Join(m.Groups, ", ")
		}
		out[m.User] = []byte("# vpnkeys: " + m.User + " on " + p.server.Name + "; groups: " + groups + "\n" +
			"ifconfig-push " + m.Address.String() + " " + mask + "\n" + lines)
	}
	return out
}

// routesOf returns the IPv4 destinations groups allow, merged, without
// those inside the tunnel's subnet (the tunnel route covers them).
func (p *plan) routesOf(groups []string) []netip.Prefix {
	var nets []netip.Prefix
	sn := p.server.Subnet
	for _, name := range groups {
		for _, r := range p.group(name).Rules {
			if r.Net.Addr().Is4() && !(r.Net.Bits() >= sn.Bits() && sn.Contains(r.Net.Addr())) {
				nets = append(nets, r.Net)
			}
		}
	}
	return collapse(nets)
}

// collapse sorts masked prefixes of one family, drops those inside
// another and merges sibling halves into their parent, so the result
// covers the same addresses with the fewest prefixes.
func collapse(nets []netip.Prefix) []netip.Prefix {
	slices.SortFunc(nets, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var out []netip.Prefix
	for _, n := range nets {
		if k := len(out); k > 0 && out[k-1].Overlaps(n) {
			continue // sorted: the earlier one is the wider
		}
		out = append(out, n)
		for k := len(out); k >= 2; k = len(out) {
			a, b := out[k-2], out[k-1]
			if a.Bits() != b.Bits() || a.Bits() == 0 {
				break
			}
			parent, _ := a.Addr().Prefix(a.Bits() - 1)
			if !parent.Contains(b.Addr()) {
				break
			}
			out = append(out[:k-2], parent)
		}
	}
	return out
}

// dotted is an IPv4 netmask of bits in dotted form (255.255.255.0).
func dotted(bits int) string { return net.IP(net.CIDRMask(bits, 32)).String() }
