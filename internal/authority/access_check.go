package authority

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// UserAccessView is what a user may reach: their groups and their fixed
// address on each server.
type UserAccessView struct {
	User      string        `json:"user"`
	Groups    []string      `json:"groups"`
	Addresses []AddressView `json:"addresses"`
}

// UserAccess returns a user's groups and addresses.
func (a *Authority) UserAccess(ctx context.Context, user string) (UserAccessView, error) {
	if err := account.ValidName(user); err != nil {
		return UserAccessView{}, err
	}
	q := a.db.Q()
	if _, err := q.GetUser(ctx, user); errors.Is(err, store.ErrNotFound) {
		return UserAccessView{}, fmt.Errorf("%w: %s", ErrUserNotFound, user)
	} else if err != nil {
		return UserAccessView{}, err
	}
	return a.userAccess(ctx, q, user)
}

func (a *Authority) userAccess(ctx context.Context, q *store.Queries, user string) (UserAccessView, error) {
	v := UserAccessView{User: user, Groups: []string{}}
	groups, err := q.UserGroups(ctx, user)
	if err != nil {
		return v, err
	}
	if groups != nil {
		v.Groups = groups
	}
	addrs, err := q.UserAddresses(ctx, user)
	v.Addresses = addressViews(addrs)
	return v, err
}

// AccessVerdict answers whether a user may reach a target, and which
// group's rule decided.
type AccessVerdict struct {
	User    string `json:"user"`
	Target  string `json:"target"`
	Allowed bool   `json:"allowed"`
	Group   string `json:"group,omitempty"`
	Rule    string `json:"rule,omitempty"`
}

// String is the verdict as one line: "allowed by group developers (rule
// 10.1.0.0/16:tcp/22,443)" or "denied: no group of alice allows
// 10.9.9.9:22/tcp".
func (v AccessVerdict) String() string {
	if v.Allowed {
		return fmt.Sprintf("allowed by group %s (rule %s)", v.Group, v.Rule)
	}
	return fmt.Sprintf("denied: no group of %s allows %s", v.User, v.Target)
}

// Target is a destination a packet goes to: HOST:PORT/PROTO
// (10.1.0.5:22/tcp, [2001:db8::1]:443/tcp) or HOST/icmp.
type Target struct {
	Addr  netip.Addr
	Port  uint16
	Proto string
}

func (t Target) String() string {
	if t.Proto == access.ICMP {
		return t.Addr.String() + "/icmp"
	}
	return netip.AddrPortFrom(t.Addr, t.Port).String() + "/" + t.Proto
}

// ParseTarget parses HOST:PORT/PROTO or HOST/icmp.
func ParseTarget(s string) (Target, error) {
	hostPort, proto, ok := strings.Cut(strings.TrimSpace(s), "/")
	proto = strings.ToLower(proto)
	bad := func(why string) (Target, error) {
		return Target{}, fmt.Errorf("%w: target %q: %s; write HOST:PORT/PROTO such as 10.1.0.5:22/tcp, or HOST/icmp", account.ErrInvalid, s, why)
	}
	if !ok {
		return bad("no protocol")
	}
	switch proto {
	case access.ICMP:
		ip, err := netip.ParseAddr(strings.Trim(hostPort, "[]"))
		if err != nil || ip.Zone() != "" {
			return bad("not an IP address")
		}
		return Target{Addr: ip.Unmap(), Proto: proto}, nil
	case access.TCP, access.UDP:
	default:
		return bad("protocol " + strconv.Quote(proto) + " is not tcp, udp or icmp")
	}
	ap, err := netip.ParseAddrPort(hostPort)
	if err != nil || ap.Addr().Zone() != "" {
		return bad("not an IP address and port")
	}
	if ap.Port() == 0 {
		return bad("port 0")
	}
	return Target{Addr: ap.Addr().Unmap(), Port: ap.Port(), Proto: proto}, nil
}

// AccessCheck answers whether user may reach target (HOST:PORT/PROTO)
// through the VPN, by the rules of their groups (access.Decide).
func (a *Authority) AccessCheck(ctx context.Context, user, target string) (AccessVerdict, error) {
	if err := account.ValidName(user); err != nil {
		return AccessVerdict{}, err
	}
	t, err := ParseTarget(target)
	if err != nil {
		return AccessVerdict{}, err
	}
	q := a.db.Q()
	if _, err := q.GetUser(ctx, user); errors.Is(err, store.ErrNotFound) {
		return AccessVerdict{}, fmt.Errorf("%w: %s", ErrUserNotFound, user)
	} else if err != nil {
		return AccessVerdict{}, err
	}
	names, err := q.UserGroups(ctx, user)
	if err != nil {
		return AccessVerdict{}, err
	}
	groups := make([]access.Group, 0, len(names))
	for _, n := range names {
		g, err := q.GetGroup(ctx, n)
		if err != nil {
			return AccessVerdict{}, err
		}
		ag := access.Group{Name: g.Name}
		for _, s := range g.Rules {
			r, err := access.ParseRule(s)
			if err != nil {
				return AccessVerdict{}, fmt.Errorf("reading rule %q of group %s: %w", s, n, err)
			}
			ag.Rules = append(ag.Rules, r)
		}
		groups = append(groups, ag)
	}
	v := AccessVerdict{User: user, Target: t.String()}
	var r access.Rule
	v.Allowed, v.Group, r = access.Decide(groups, t.Addr, t.Proto, t.Port)
	if v.Allowed {
		v.Rule = r.String()
	}
	return v, nil
}
