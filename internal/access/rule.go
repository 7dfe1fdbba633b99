package access

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// The protocols a rule may name. An empty Proto means every protocol.
const (
	TCP  = "tcp"
	UDP  = "udp"
	ICMP = "icmp" // icmp for IPv4 destinations, icmpv6 for IPv6 ones
)

// PortRange is an inclusive range of ports, From <= To, both 1..65535. A
// single port has From == To.
type PortRange struct {
	From, To uint16
}

func (p PortRange) String() string {
	if p.From == p.To {
		return strconv.Itoa(int(p.From))
	}
	return strconv.Itoa(int(p.From)) + "-" + strconv.Itoa(int(p.To))
}

// Contains reports whether port is in the range.
func (p PortRange) Contains(port uint16) bool { return p.From <= port && port <= p.To }

// Rule allows traffic to Net: every protocol when Proto is empty, else only
// Proto (TCP, UDP or ICMP); for TCP and UDP only to Ports when there are
// any (sorted, merged, none overlapping or adjacent). Rules made by
// ParseRule are canonical: Net is masked and not IPv4-mapped.
type Rule struct {
	Net   netip.Prefix
	Proto string
	Ports []PortRange
}

// ParseRule parses DEST[:PROTO[/PORTS]] (see the package comment) into its
// canonical form. The error names the part that is wrong and wraps
// account.ErrInvalid.
func ParseRule(s string) (Rule, error) {
	dest, rest, hasProto, err := splitDest(s)
	if err != nil {
		return Rule{}, err
	}
	net, err := parseDest(s, dest)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Net: net}
	if !hasProto {
		return r, nil
	}
	proto, ports, hasPorts := strings.Cut(rest, "/")
	r.Proto = strings.ToLower(proto)
	switch r.Proto {
	case TCP, UDP:
	case ICMP:
		if hasPorts {
			return Rule{}, invalid(s, "icmp takes no ports")
		}
	case "":
		return Rule{}, invalid(s, "empty protocol after ':' (want tcp, udp or icmp)")
	default:
		return Rule{}, invalid(s, fmt.Sprintf("unknown protocol %q (want tcp, udp or icmp)", proto))
	}
	if hasPorts {
		if r.Ports, err = parsePorts(s, ports); err != nil {
			return Rule{}, err
		}
	}
	return r, nil
}

// splitDest cuts s into the destination and what follows its ':'.
func splitDest(s string) (dest, rest string, hasProto bool, err error) {
	if s == "" {
		return "", "", false, fmt.Errorf("%w: empty rule (want DEST[:PROTO[/PORTS]])", account.ErrInvalid)
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false, invalid(s, "'[' without ']'")
		}
		dest, rest = s[1:end], s[end+1:]
		if rest == "" {
			return dest, "", false, nil
		}
		if rest[0] != ':' {
			return "", "", false, invalid(s, fmt.Sprintf("unexpected %q after ']' (want :PROTO)", rest))
		}
		return dest, rest[1:], true, nil
	}
	if strings.Count(s, ":") > 1 {
		// An IPv6 destination without brackets takes no protocol.
		return s, "", false, nil
	}
	dest, rest, hasProto = strings.Cut(s, ":")
	return dest, rest, hasProto, nil
}

// parseDest parses an address or CIDR and returns it masked.
func parseDest(s, dest string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(dest, "/") {
		pp, err := netip.ParsePrefix(dest)
		if err != nil {
			return p, invalid(s, fmt.Sprintf("destination %q is not an address or CIDR (an IPv6 one with a protocol goes in brackets: [2001:db8::1]:tcp/443)", dest))
		}
		p = pp
	} else {
		a, err := netip.ParseAddr(dest)
		if err != nil {
			return p, invalid(s, fmt.Sprintf("destination %q is not an address or CIDR (an IPv6 one with a protocol goes in brackets: [2001:db8::1]:tcp/443)", dest))
		}
		if a.Zone() != "" {
			return p, invalid(s, fmt.Sprintf("destination %q has a zone", dest))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return p, invalid(s, fmt.Sprintf("destination %q is IPv4-mapped; write it as IPv4", dest))
	}
	return p.Masked(), nil
}

// parsePorts parses a comma list of ports and ranges, sorted and merged.
func parsePorts(s, list string) ([]PortRange, error) {
	if list == "" {
		return nil, invalid(s, "empty port list after '/'")
	}
	var out []PortRange
	for _, f := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(f, "-")
		from, err := parsePort(s, lo)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = parsePort(s, hi); err != nil {
				return nil, err
			}
			if to < from {
				return nil, invalid(s, fmt.Sprintf("port range %q runs backwards", f))
			}
		}
		out = append(out, PortRange{from, to})
	}
	return mergePorts(out), nil
}

func parsePort(s, p string) (uint16, error) {
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return 0, invalid(s, fmt.Sprintf("port %q is not a number from 1 to 65535", p))
	}
	return uint16(n), nil
}

// mergePorts sorts ranges and merges overlapping and adjacent ones.
func mergePorts(in []PortRange) []PortRange {
	slices.SortFunc(in, func(a, b PortRange) int { return int(a.From) - int(b.From) })
	out := in[:0]
	for _, p := range in {
		if n := len(out); n > 0 && int(p.From) <= int(out[n-1].To)+1 {
			out[n-1].To = max(out[n-1].To, p.To)
			continue
		}
		out = append(out, p)
	}
	return out
}

func invalid(s, why string) error {
	return fmt.Errorf("%w: rule %q: %s", account.ErrInvalid, s, why)
}

// String prints the canonical form; ParseRule(r.String()) gives r back.
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
// address family (prefix length 0: 0.0.0.0/0 or ::/0).
func (r Rule) AllowsEverything() bool { return r.Net.IsValid() && r.Net.Bits() == 0 }

// Matches reports whether the rule allows a packet to addr with proto
// ("tcp", "udp", "icmp"; "icmpv6" is taken as "icmp") and port (ignored
// for icmp, and for a rule without ports).
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
	if proto != r.Proto {
		return false
	}
	if len(r.Ports) == 0 {
		return true
	}
	for _, p := range r.Ports {
		if p.Contains(port) {
			return true
		}
	}
	return false
}
