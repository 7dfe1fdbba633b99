package ovpn

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
)

// Route is a route pushed to clients, as `push "route NETWORK NETMASK"`.
type Route struct {
	Network string
	Netmask string
}

// Push is what a server pushes to its clients besides their address.
type Push struct {
	Routes []string // IPv4 CIDRs
	DNS    []string // IP addresses
	Domain string   // search domain
}

// domainRE is compiled on first use: its bounded repetitions make a large
// program, and every command would pay for it at start.
var domainRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
})

// Validate checks every value, so nothing that could break a config line
// reaches server.conf.
func (p Push) Validate() error {
	for _, r := range p.Routes {
		if _, err := ParseRoute(r); err != nil {
			return err
		}
	}
	for _, d := range p.DNS {
		if net.ParseIP(d) == nil {
			return fmt.Errorf("%w: DNS server %q: want an IP address such as 10.8.0.1", ErrRemote, d)
		}
	}
	if p.Domain != "" && (len(p.Domain) > 253 || !domainRE().MatchString(strings.ToLower(p.Domain))) {
		return fmt.Errorf("%w: domain %q: want a DNS name such as corp.example.com", ErrRemote, p.Domain)
	}
	return nil
}

// ParseRoute reads an IPv4 CIDR to push as a route.
func ParseRoute(cidr string) (Route, error) {
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return Route{}, fmt.Errorf("%w: route %q: want an IPv4 CIDR such as 10.1.0.0/16", ErrRemote, cidr)
	}
	return Route{Network: n.IP.String(), Netmask: net.IP(n.Mask).String()}, nil
}

// Routes gives the pushed routes in server.conf's form; p must be valid.
func (p Push) routes() []Route {
	out := make([]Route, 0, len(p.Routes))
	for _, r := range p.Routes {
		if rt, err := ParseRoute(r); err == nil {
			out = append(out, rt)
		}
	}
	return out
}

// WithPush fills d's pushed routes, DNS servers and domain from p.
func (d ServerData) WithPush(p Push) ServerData {
	d.PushRoutes, d.DNS, d.Domain = p.routes(), p.DNS, p.Domain
	return d
}
