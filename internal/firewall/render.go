package firewall

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
)

// Table is the one nftables table vpnkeys owns on a server; Render's
// ruleset replaces it and never touches another.
const Table = "inet vpnkeys"

// Server is what the rendering needs to know of an OpenVPN server.
type Server struct {
	Name string
	// Subnet is the tunnel's IPv4 subnet (topology subnet): the server
	// holds its first host address, users the others.
	Subnet netip.Prefix
	// Device is the server's tun interface ("tun0") when known: IPv6
	// arriving on it is dropped. Empty renders no IPv6 rule (OpenVPN
	// without an IPv6 pool forwards no IPv6 from its clients).
	Device string
}

// Member is a user with their fixed address on the server and the names
// of their groups.
type Member struct {
	User    string
	Address netip.Addr
	Groups  []string
}

// plan is the validated, sorted input both outputs are written from.
type plan struct {
	server  Server
	members []Member       // by user; Groups sorted, deduplicated
	groups  []access.Group // by name
	sets    []string       // distinct group sets, "a,b", sorted; members in no group have none
	setOf   map[string]int // group set -> index into sets
}

// Render returns the nftables ruleset and the client-config files (by
// user name) that server enforces for members, given every group that
// exists. It checks its input and returns an error wrapping
// account.ErrInvalid naming the first problem: a bad subnet, device,
// user or group name, an address outside the subnet or taken twice, a
// group nobody defined, a rule that is not canonical.
func Render(server Server, members []Member, groups []access.Group) (ruleset string, ccd map[string][]byte, err error) {
	p, err := newPlan(server, members, groups)
	if err != nil {
		return "", nil, fmt.Errorf("rendering firewall of server %s: %w", server.Name, err)
	}
	return p.ruleset(), p.ccd(), nil
}

var deviceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`) })

func newPlan(server Server, members []Member, groups []access.Group) (*plan, error) {
	sn := server.Subnet
	if !sn.IsValid() || !sn.Addr().Is4() || sn.Bits() > 30 || sn.Masked() != sn {
		return nil, fmt.Errorf("%w: subnet %q: want a masked IPv4 CIDR of /30 or larger", account.ErrInvalid, sn)
	}
	if server.Device != "" && !deviceRE().MatchString(server.Device) {
		return nil, fmt.Errorf("%w: device %q: want an interface name", account.ErrInvalid, server.Device)
	}
	if err := account.ValidName(server.Name); err != nil { // it ends up in comments of both outputs
		return nil, fmt.Errorf("server: %w", err)
	}
	p := &plan{server: server, setOf: map[string]int{}}
	if err := p.addGroups(groups); err != nil {
		return nil, err
	}
	if err := p.addMembers(members); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *plan) addGroups(groups []access.Group) error {
	p.groups = slices.Clone(groups)
	slices.SortFunc(p.groups, func(a, b access.Group) int { return strings.Compare(a.Name, b.Name) })
	for i, g := range p.groups {
		if err := access.ValidGroupName(g.Name); err != nil {
			return err
		}
		if i > 0 && p.groups[i-1].Name == g.Name {
			return fmt.Errorf("%w: group %s given twice", account.ErrInvalid, g.Name)
		}
		for _, r := range g.Rules {
			if err := checkRule(r); err != nil {
				return fmt.Errorf("group %s: %w", g.Name, err)
			}
		}
	}
	return nil
}

// checkRule refuses a rule ParseRule would not have made, so nothing
// unexpected reaches the ruleset's text.
func checkRule(r access.Rule) error {
	again, err := access.ParseRule(r.String())
	if err != nil || !r.Net.IsValid() || again.String() != r.String() || r.Net != again.Net || r.Proto != again.Proto || len(r.Ports) != len(again.Ports) {
		return fmt.Errorf("%w: rule %q is not in canonical form", account.ErrInvalid, r)
	}
	for i := range r.Ports {
		if r.Ports[i] != again.Ports[i] {
			return fmt.Errorf("%w: rule %q is not in canonical form", account.ErrInvalid, r)
		}
	}
	return nil
}

func (p *plan) addMembers(members []Member) error {
	known := map[string]bool{}
	for _, g := range p.groups {
		known[g.Name] = true
	}
	sn := p.server.Subnet
	reserved := map[netip.Addr]string{sn.Addr(): "the subnet's own address", sn.Addr().Next(): "the server's", lastAddr(sn): "the broadcast address"}
	taken := make(map[netip.Addr]string, len(members))
	p.members = slices.Clone(members)
	slices.SortFunc(p.members, func(a, b Member) int { return strings.Compare(a.User, b.User) })
	for i := range p.members {
		m := &p.members[i]
		if err := account.ValidName(m.User); err != nil {
			return err
		}
		if i > 0 && p.members[i-1].User == m.User {
			return fmt.Errorf("%w: user %s given twice", account.ErrInvalid, m.User)
		}
		switch {
		case !sn.Contains(m.Address):
			return fmt.Errorf("%w: user %s: address %s is outside %s", account.ErrInvalid, m.User, m.Address, sn)
		case reserved[m.Address] != "":
			return fmt.Errorf("%w: user %s: address %s is %s", account.ErrInvalid, m.User, m.Address, reserved[m.Address])
		case taken[m.Address] != "":
			return fmt.Errorf("%w: users %s and %s share address %s", account.ErrInvalid, taken[m.Address], m.User, m.Address)
		}
		taken[m.Address] = m.User
		m.Groups = slices.Compact(slices.Sorted(slices.Values(m.Groups)))
		for _, g := range m.Groups {
			if !known[g] {
				return fmt.Errorf("%w: user %s: no group %q", account.ErrInvalid, m.User, g)
			}
		}
		if len(m.Groups) > 0 {
			p.setOf[strings.Join(m.Groups, ",")] = 0
		}
	}
	p.sets = slices.Sorted(maps.Keys(p.setOf))
	for i, s := range p.sets {
		p.setOf[s] = i
	}
	return nil
}

// lastAddr is the highest address of an IPv4 prefix (its broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// group returns the named group (it exists: addMembers checked).
func (p *plan) group(name string) access.Group {
	i, _ := slices.BinarySearchFunc(p.groups, name, func(g access.Group, n string) int { return strings.Compare(g.Name, n) })
	return p.groups[i]
}
