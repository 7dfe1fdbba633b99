package authority

import (
	"time"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ServerView is a registered OpenVPN server as every front end shows it;
// the CLI's --json and the API print the same keys.
type ServerView struct {
	Name string `json:"name"`
	// Remote is where clients reach it, HOST:PORT/PROTO (IPv6 bracketed).
	Remote     ovpn.Remote `json:"-"`
	RemoteText string      `json:"remote"`
	Subnet     string      `json:"subnet"`
	Push       ovpn.Push   `json:"-"`
	PushRoutes []string    `json:"push_routes,omitempty"`
	DNS        []string    `json:"dns,omitempty"`
	Domain     string      `json:"domain,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	// TLSMode protects the control channel: tls-crypt, tls-auth or tls-crypt-v2.
	TLSMode string `json:"tls_mode"`
}

func serverView(s store.Server) ServerView {
	rem := ovpn.Remote{Host: s.Host, Port: s.Port, Proto: s.Proto}
	p := PushOf(s)
	return ServerView{Name: s.Name, Remote: rem, RemoteText: rem.String(), Subnet: s.Subnet,
		Push: p, PushRoutes: p.Routes, DNS: p.DNS, Domain: p.Domain, CreatedAt: s.CreatedAt,
		TLSMode: string(ovpn.TLSMode(s.TLSMode).OrDefault())}
}

func serverViews(list []store.Server) []ServerView {
	out := make([]ServerView, len(list))
	for i, s := range list {
		out[i] = serverView(s)
	}
	return out
}
