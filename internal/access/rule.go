package access

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// ErrInvalid is wrapped by every error of this package; it is the same
// sentinel as the account package's, so the edges map one invalid kind.
var ErrInvalid = account.ErrInvalid

// The protocols a rule may name. ICMP means ICMP for an IPv4 destination
// and ICMPv6 for an IPv6 one.
const (
	TCP  = "tcp"
	UDP  = "udp"
	ICMP = "icmp"
)

// PortRange is an inclusive range of ports, From <= To, both 1..65535.
type PortRange struct {
	From uint16
	To   uint16
}

func (p PortRange) String() string {
	if p.From == p.To {
		return strconv.Itoa(int(p.From))
	}
	return strconv.Itoa(int(p.From)) + "-" + strconv.Itoa(int(p.To))
}

// Rule is one destination a group may reach: a network, optionally one
// protocol, and for TCP and UDP optionally some ports. An empty Proto
// means every protocol; empty Ports means every port.
type Rule struct {
	Net   netip.Prefix
	Proto string
	Ports []PortRange
}

// ParseRule parses DEST[:PROTO[/PORTS]] (10.1.0.0/16:tcp/22,443,
// 10.1.5.3:udp/53, [2001:db8::1]:tcp/443, 2001:db8::/32) into its
// canonical Rule. The error names the part that is wrong. A rule that
// allows everything (prefix length 0) parses; callers refuse it unless
// told otherwise (see AllowsEverything).
func ParseRule(s string) (Rule, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Rule{}, fmt.Errorf("%w: empty rule: write DEST[:PROTO[/PORTS]], such as 10.1.0.0/16:tcp/22,443", ErrInvalid)
	}
	dest, rest, err := splitDest(in)
	if err != nil {
		return Rule{}, fmt.Errorf("%w: rule %q: %s", ErrInvalid, s, err)
	}
	net, err := parseDest(dest)
	if err != nil {
		return Rule{}, fmt.Errorf("%w: rule %q: %s", ErrInvalid, s, err)
	}
	r := Rule{Net: net}
	if rest == "" {
		return r, nil
	}
	proto, ports, hasPorts := strings.Cut(rest, "/")
	r.Proto = strings.ToLower(proto)
	switch r.Proto {
	case TCP, UDP:
	case ICMP:
		if hasPorts {
			return Rule{}, fmt.Errorf("%w: rule %q: icmp takes no ports", ErrInvalid, s)
		}
	default:
		return Rule{}, fmt.Errorf("%w: rule %q: protocol %q: use tcp, udp or icmp", ErrInvalid, s, proto)
	}
	if hasPorts {
		if r.Ports, err = parsePorts(ports); err != nil {
			return Rule{}, fmt.Errorf("%w: rule %q: %s", ErrInvalid, s, err)
		}
	}
	return r, nil
}

// splitDest cuts the destination from the ":PROTO/PORTS" part. An IPv6
// destination with a protocol must be bracketed.
func splitDest(s string) (dest, rest string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", fmt.Errorf("missing ']' after the IPv6 destination")
		}
		dest, rest = s[1:end], s[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("expected ':PROTO' after ']', got %q", rest)
		}
		if rest == ":" {
			return "", "", fmt.Errorf("missing protocol after ':'")
		}
		return dest, strings.TrimPrefix(rest, ":"), nil
	}
	if strings.Count(s, ":") > 1 { // a bare IPv6 destination, no protocol
		return s, "", nil
	}
	dest, rest, found := strings.Cut(s, ":")
	if found && rest == "" {
		return "", "", fmt.Errorf("missing protocol after ':'")
	}
	return dest, rest, nil
}

// parseDest parses an address or a CIDR into a masked prefix.
func parseDest(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("destination %q is not a CIDR such as 10.1.0.0/16 (an IPv6 one with a protocol goes in brackets)", s)
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("destination %q: write an IPv4-mapped network as IPv4", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("destination %q is not an IP address or CIDR (an IPv6 one with a protocol goes in brackets)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parsePorts parses "22,443,8000-8100" into sorted, merged ranges.
func parsePorts(s string) ([]PortRange, error) {
	if s == "" {
		return nil, fmt.Errorf("missing ports after '/': write 22 or 22,443 or 8000-8100")
	}
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		from, err := parsePort(lo)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = parsePort(hi); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("port range %q runs backwards", part)
			}
		}
		out = append(out, PortRange{From: from, To: to})
	}
	return mergePorts(out), nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q: use a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// mergePorts sorts ranges and merges those that overlap or touch.
func mergePorts(rs []PortRange) []PortRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].From < rs[j].From })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.From) <= int(out[n-1].To)+1 {
			if r.To > out[n-1].To {
				out[n-1].To = r.To
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// String returns the rule's canonical form, which ParseRule reads back.
func (r Rule) String() string {
	var b strings.Builder
	dest := r.Net.String()
	if r.Net.IsSingleIP() {
		dest = r.Net.Addr().String()
	}
	if r.Proto != "" && r.Net.Addr().Is6() {
		dest = "[" + dest + "]"
	}
	b.WriteString(dest)
	if r.Proto == "" {
		return b.String()
	}
	b.WriteString(":" + r.Proto)
	for i, p := range r.Ports {
		if i == 0 {
			b.WriteByte('/')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// AllowsEverything reports whether the rule's destination is a whole
// address family (0.0.0.0/0 or ::/0), which callers refuse unless the
// admin insists.
func (r Rule) AllowsEverything() bool {
	return r.Net.IsValid() && r.Net.Bits() == 0
}

// Matches reports whether a packet to addr with proto (tcp, udp, icmp or
// icmpv6) and port (ignored for icmp) is allowed by the rule.
func (r Rule) Matches(addr netip.Addr, proto string, port uint16) bool {
	if !r.Net.Contains(addr.Unmap()) {
		return false
	}
	proto = strings.ToLower(proto)
	if proto == "icmpv6" {
		proto = ICMP
	}
	if r.Proto == "" {
		return true
	}
	if r.Proto != proto {
		return false
	}
	if len(r.Ports) == 0 || proto == ICMP {
		return true
	}
	for _, p := range r.Ports {
		if port >= p.From && port <= p.To {
			return true
		}
	}
	return false
}
