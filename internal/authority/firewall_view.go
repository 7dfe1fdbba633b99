package authority

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/firewall"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// FirewallView is what one server enforces about who may reach what: the
// nftables ruleset of its own table and one client-config file per user
// (by user name), as firewall.Render makes them from the database.
type FirewallView struct {
	Server  string            `json:"server"`
	Ruleset string            `json:"ruleset"`
	CCD     map[string]string `json:"ccd"`
}

// Firewall renders server's ruleset and client-config files (a dry run of
// what its agent applies). Users with an active certificate and an
// address on the server are its members; a revoked user gets no file, so
// ccd-exclusive refuses them even before the CRL does.
func (a *Authority) Firewall(ctx context.Context, server string) (FirewallView, error) {
	fw, _, err := a.serverFirewall(ctx, server, nil)
	return fw, err
}

// serverFirewall renders server's ruleset and client-config files, and
// its self-test probes' client-config files (selftest.go), from one read
// of the server and its addresses. sh is what every server reads alike;
// nil reads it here, after giving users from before fixed addresses theirs.
func (a *Authority) serverFirewall(ctx context.Context, server string, sh *fwShared) (FirewallView, []bundle.File, error) {
	q := a.db.Q()
	srv, err := q.GetServer(ctx, server)
	if errors.Is(err, store.ErrNotFound) {
		return FirewallView{}, nil, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	} else if err != nil {
		return FirewallView{}, nil, err
	}
	if sh == nil {
		if _, err := a.EnsureAddresses(ctx); err != nil {
			return FirewallView{}, nil, err
		}
		s, err := a.firewallShared(ctx, q)
		if err != nil {
			return FirewallView{}, nil, err
		}
		sh = &s
	}
	addrs, err := q.ServerAddresses(ctx, srv.Name)
	if err != nil {
		return FirewallView{}, nil, err
	}
	fw, err := renderFirewall(srv, addrs, *sh)
	if err != nil {
		return FirewallView{}, nil, err
	}
	probes, err := probeCCDFiles(srv, addrs)
	return fw, probes, err
}

// fwShared is what every server's firewall reads alike: the groups with
// their parsed rules, each user's groups, and who is active. The agents'
// states read it once per version, not once per server.
type fwShared struct {
	groups   []access.Group
	groupsOf map[string][]string
	active   map[string]bool
}

// firewallShared reads every group with its parsed rules and the active
// users.
func (a *Authority) firewallShared(ctx context.Context, q *store.Queries) (fwShared, error) {
	active, err := q.ActiveUserNames(ctx)
	if err != nil {
		return fwShared{}, err
	}
	list, err := q.ListGroups(ctx)
	if err != nil {
		return fwShared{}, err
	}
	sh := fwShared{groups: make([]access.Group, len(list)), groupsOf: map[string][]string{}, active: make(map[string]bool, len(active))}
	for i, g := range list {
		sh.groups[i] = access.Group{Name: g.Name}
		for _, s := range g.Rules {
			r, err := access.ParseRule(s)
			if err != nil {
				return fwShared{}, fmt.Errorf("reading rule %q of group %s: %w", s, g.Name, err)
			}
			sh.groups[i].Rules = append(sh.groups[i].Rules, r)
		}
		for _, m := range g.Members {
			sh.groupsOf[m] = append(sh.groupsOf[m], g.Name)
		}
	}
	for _, u := range active {
		sh.active[u] = true
	}
	return sh, nil
}

// renderFirewall renders srv's ruleset and client-config files from its
// members (active users among addrs, its addresses) and sh.
func renderFirewall(srv store.Server, addrs []store.Address, sh fwShared) (FirewallView, error) {
	var members []firewall.Member
	for _, x := range addrs {
		if !sh.active[x.User] {
			continue
		}
		ip, err := netip.ParseAddr(x.Address)
		if err != nil {
			return FirewallView{}, fmt.Errorf("reading address of %s on %s: %w", x.User, srv.Name, err)
		}
		members = append(members, firewall.Member{User: x.User, Address: ip, Groups: sh.groupsOf[x.User]})
	}
	subnet, err := netip.ParsePrefix(srv.Subnet)
	if err != nil {
		return FirewallView{}, fmt.Errorf("reading subnet of server %s: %w", srv.Name, err)
	}
	ruleset, ccd, err := firewall.Render(firewall.Server{Name: srv.Name, Subnet: subnet.Masked(), Device: ovpn.DeviceName(srv.Name)}, members, sh.groups)
	if err != nil {
		return FirewallView{}, err
	}
	v := FirewallView{Server: srv.Name, Ruleset: ruleset, CCD: make(map[string]string, len(ccd))}
	for u, b := range ccd {
		v.CCD[u] = string(b)
	}
	return v, nil
}

// ccdFiles are v's client-config files as files of the server folder,
// "ccd/USER" (0644: OpenVPN reads them as nobody), sorted by user.
func ccdFiles(v FirewallView) []bundle.File {
	users := slices.Sorted(maps.Keys(v.CCD))
	out := make([]bundle.File, len(users))
	for i, u := range users {
		out[i] = bundle.File{Name: agentwire.CCDPrefix + u, Mode: safefile.PublicMode, Data: []byte(v.CCD[u])}
	}
	return out
}
