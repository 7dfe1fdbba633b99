package ovpn

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// ErrRemote is returned for a malformed HOST:PORT[/udp|/tcp].
var ErrRemote = fault.New(fault.Invalid, "invalid", "invalid remote")

// Remote is where clients reach one OpenVPN server.
type Remote struct {
	Host  string
	Port  int
	Proto string // "udp" or "tcp"
}

// String gives HOST:PORT/PROTO, the form ParseRemote reads.
func (r Remote) String() string {
	return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) + "/" + r.Proto
}

var hostRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`) })

// ParseRemote reads HOST:PORT[/udp|/tcp] (the port defaults to 1194 and the
// protocol to udp). HOST is a DNS name or an IP address; IPv6 goes in
// brackets. Nothing that could break a config line gets through.
func ParseRemote(s string) (Remote, error) {
	r := Remote{Port: 1194, Proto: "udp"}
	rest := s
	if i := strings.LastIndex(s, "/"); i >= 0 {
		r.Proto = strings.ToLower(s[i+1:])
		rest = s[:i]
		if r.Proto != "udp" && r.Proto != "tcp" {
			return Remote{}, fmt.Errorf("%w %q: protocol must be udp or tcp", ErrRemote, s)
		}
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		host = rest // no port given
		if strings.Count(host, ":") > 0 && net.ParseIP(host) == nil {
			return Remote{}, fmt.Errorf("%w %q: want HOST:PORT[/udp|/tcp]", ErrRemote, s)
		}
	} else {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return Remote{}, fmt.Errorf("%w %q: port must be 1-65535", ErrRemote, s)
		}
		r.Port = p
	}
	if net.ParseIP(host) == nil && !hostRE().MatchString(host) {
		return Remote{}, fmt.Errorf("%w %q: host must be a DNS name or an IP address", ErrRemote, s)
	}
	r.Host = host
	return r, nil
}
