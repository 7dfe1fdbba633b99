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
	q := a.db.Q()
	srv, err := q.GetServer(ctx, server)
	if errors.Is(err, store.ErrNotFound) {
		return FirewallView{}, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	} else if err != nil {
		return FirewallView{}, err
	}
	if _, err := a.EnsureAddresses(ctx); err != nil {
		return FirewallView{}, err
	}
	members, groups, err := a.firewallInput(ctx, q, server)
	if err != nil {
		return FirewallView{}, err
	}
	subnet, err := netip.ParsePrefix(srv.Subnet)
	if err != nil {
		return FirewallView{}, fmt.Errorf("reading subnet of server %s: %w", server, err)
	}
	ruleset, ccd, err := firewall.Render(firewall.Server{Name: srv.Name, Subnet: subnet.Masked(), Device: ovpn.DeviceName(srv.Name)}, members, groups)
	if err != nil {
		return FirewallView{}, err
	}
	v := FirewallView{Server: srv.Name, Ruleset: ruleset, CCD: make(map[string]string, len(ccd))}
	for u, b := range ccd {
		v.CCD[u] = string(b)
	}
	return v, nil
}

// firewallInput reads server's members (active users with an address
// there, with their groups) and every group with its parsed rules.
func (a *Authority) firewallInput(ctx context.Context, q *store.Queries, server string) ([]firewall.Member, []access.Group, error) {
	addrs, err := q.ServerAddresses(ctx, server)
	if err != nil {
		return nil, nil, err
	}
	active, err := q.ActiveUserNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	list, err := q.ListGroups(ctx)
	if err != nil {
		return nil, nil, err
	}
	groupsOf := map[string][]string{}
	groups := make([]access.Group, len(list))
	for i, g := range list {
		groups[i] = access.Group{Name: g.Name}
		for _, s := range g.Rules {
			r, err := access.ParseRule(s)
			if err != nil {
				return nil, nil, fmt.Errorf("reading rule %q of group %s: %w", s, g.Name, err)
			}
			groups[i].Rules = append(groups[i].Rules, r)
		}
		for _, m := range g.Members {
			groupsOf[m] = append(groupsOf[m], g.Name)
		}
	}
	isActive := make(map[string]bool, len(active))
	for _, u := range active {
		isActive[u] = true
	}
	var members []firewall.Member
	for _, x := range addrs {
		if !isActive[x.User] {
			continue
		}
		ip, err := netip.ParseAddr(x.Address)
		if err != nil {
			return nil, nil, fmt.Errorf("reading address of %s on %s: %w", x.User, server, err)
		}
		members = append(members, firewall.Member{User: x.User, Address: ip, Groups: groupsOf[x.User]})
	}
	return members, groups, nil
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
