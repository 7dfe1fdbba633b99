package authority

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ErrPoolFull refuses to give a user an address on a server whose subnet
// has none left.
var ErrPoolFull = fault.New(fault.Conflict, "pool_full", "address pool full")

// AddressView is a user's fixed VPN address on one server.
type AddressView struct {
	Server  string `json:"server"`
	User    string `json:"user"`
	Address string `json:"address"`
}

// pool hands out a server's addresses, lowest free first. In OpenVPN's
// topology subnet the server holds the first host address (.1 of
// 10.8.0.0/24); users get the next ones up to the last before broadcast.
type pool struct {
	server     store.Server
	first, end uint32 // first user address, one past the last
	used       map[uint32]bool
	next       uint32
}

func newPool(s store.Server, taken []store.Address) (*pool, error) {
	pfx, err := netip.ParsePrefix(s.Subnet)
	if err != nil || !pfx.Addr().Is4() || pfx.Bits() > 30 {
		return nil, fmt.Errorf("server %s: subnet %q is not an IPv4 pool", s.Name, s.Subnet)
	}
	pfx = pfx.Masked()
	base := v4(pfx.Addr())
	size := uint32(1) << (32 - pfx.Bits())
	p := &pool{server: s, first: base + 2, end: base + size - 1, used: map[uint32]bool{}}
	p.next = p.first
	for _, a := range taken {
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
			p.used[v4(ip)] = true
		}
	}
	return p, nil
}

func v4(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func fromV4(n uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}

// contains tells whether ip is one a user may hold in this pool.
func (p *pool) contains(ip netip.Addr) bool {
	return ip.Is4() && v4(ip) >= p.first && v4(ip) < p.end
}

// take returns the lowest free address and marks it used.
func (p *pool) take() (string, error) {
	for ; p.next < p.end; p.next++ {
		if !p.used[p.next] {
			p.used[p.next] = true
			return fromV4(p.next).String(), nil
		}
	}
	return "", fmt.Errorf("%w: server %s's pool %s is full (%d addresses); give it a larger subnet",
		ErrPoolFull, p.server.Name, p.server.Subnet, p.end-p.first)
}

// allocate gives every user in users who has none an address on server s,
// in transaction q, and returns those who got one.
func allocate(ctx context.Context, q *store.Queries, s store.Server, users []string) ([]string, error) {
	if err := q.LockPool(ctx, s.Name); err != nil {
		return nil, err
	}
	if len(users) <= quickUsers {
		if given, ok, err := allocateQuick(ctx, q, s, users); err != nil || ok {
			return given, err
		}
	}
	taken, err := q.ServerAddresses(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	p, err := newPool(s, taken)
	if err != nil {
		return nil, err
	}
	has := make(map[string]bool, len(taken))
	for _, a := range taken {
		has[a.User] = true
	}
	var given []string
	for _, u := range users {
		if has[u] {
			continue
		}
		addr, err := p.take()
		if err != nil {
			return nil, err
		}
		if err := q.InsertAddress(ctx, store.Address{Server: s.Name, User: u, Address: addr}); err != nil {
			return nil, err
		}
		has[u] = true
		given = append(given, u)
	}
	return given, nil
}

// quickUsers is the largest batch allocateQuick serves: one or a few
// users, as the API and the pages add them.
const quickUsers = 8

// allocateQuick gives a few users their addresses without reading the
// whole pool: on a pool given out from the bottom without holes, the next
// free address is the first plus the count. When that one is taken (a
// removal left a hole below it) it reports !ok and allocate reads the
// pool to find the lowest free one. Only when holes below and above the
// count cancel out is the address it gives free but not the lowest; the
// next full read (a batch, or a taken candidate) fills the hole.
func allocateQuick(ctx context.Context, q *store.Queries, s store.Server, users []string) ([]string, bool, error) {
	p, err := newPool(s, nil)
	if err != nil {
		return nil, false, err
	}
	n, err := q.CountAddresses(ctx, s.Name)
	if err != nil {
		return nil, false, err
	}
	var given []string
	for _, u := range users {
		if a, err := q.AddressOf(ctx, s.Name, u); err != nil || a != "" {
			if err != nil {
				return nil, false, err
			}
			continue
		}
		next := p.first + uint32(n)
		if next >= p.end {
			return nil, false, nil // full, or nearly: the whole read says which
		}
		addr := fromV4(next).String()
		if taken, err := q.AddressTaken(ctx, s.Name, addr); err != nil || taken {
			return nil, false, err
		}
		if err := q.InsertAddress(ctx, store.Address{Server: s.Name, User: u, Address: addr}); err != nil {
			return nil, false, err
		}
		n++
		given = append(given, u)
	}
	return given, true, nil
}

// allocateUsers gives users an address on every server that they lack,
// in transaction q, and returns how many each server gave.
func allocateUsers(ctx context.Context, q *store.Queries, users []string) (map[string]int, error) {
	servers, err := q.ListServers(ctx)
	if err != nil {
		return nil, err
	}
	given := map[string]int{}
	for _, s := range servers {
		got, err := allocate(ctx, q, s, users)
		if err != nil {
			return nil, err
		}
		if len(got) > 0 {
			given[s.Name] = len(got)
		}
	}
	return given, nil
}

// reseat moves the addresses on server s into its (new) subnet in
// transaction q: addresses still inside it are kept, the others given
// anew, lowest free first.
func reseat(ctx context.Context, q *store.Queries, s store.Server) error {
	taken, err := q.ServerAddresses(ctx, s.Name)
	if err != nil {
		return err
	}
	p, err := newPool(s, nil)
	if err != nil {
		return err
	}
	var kept []store.Address
	var moved []string
	for _, a := range taken {
		ip, err := netip.ParseAddr(a.Address)
		if err == nil && p.contains(ip) && !p.used[v4(ip)] {
			p.used[v4(ip)] = true
			kept = append(kept, a)
		} else {
			moved = append(moved, a.User)
		}
	}
	if len(moved) == 0 {
		return nil
	}
	if _, err := q.DeleteServerAddresses(ctx, s.Name); err != nil {
		return err
	}
	for _, a := range kept {
		if err := q.InsertAddress(ctx, a); err != nil {
			return err
		}
	}
	_, err = allocate(ctx, q, s, moved)
	return err
}

// Addresses lists the fixed addresses given out on server, by user.
func (a *Authority) Addresses(ctx context.Context, server string) ([]AddressView, error) {
	if _, err := a.db.Q().GetServer(ctx, server); errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	} else if err != nil {
		return nil, err
	}
	if _, err := a.EnsureAddresses(ctx); err != nil {
		return nil, err
	}
	list, err := a.db.Q().ServerAddresses(ctx, server)
	return addressViews(list), err
}

func addressViews(list []store.Address) []AddressView {
	out := make([]AddressView, len(list))
	for i, x := range list {
		out[i] = AddressView{Server: x.Server, User: x.User, Address: x.Address}
	}
	return out
}

// EnsureAddresses gives every user with an active certificate the address
// they lack on any server, and returns how many it gave: users onboarded
// before fixed addresses existed (migration 0009) get theirs. It changes
// nothing, at the cost of one query, when none is missing.
func (a *Authority) EnsureAddresses(ctx context.Context) (int, error) {
	if n, err := a.db.Q().MissingAddresses(ctx); err != nil || n == 0 {
		return 0, err
	}
	total := 0
	err := a.withRetry(ctx, func(q *store.Queries) error {
		total = 0
		users, err := q.ActiveUserNames(ctx)
		if err != nil {
			return err
		}
		given, err := allocateUsers(ctx, q, users)
		if err != nil {
			return err
		}
		servers := make([]string, 0, len(given))
		for s, n := range given {
			servers = append(servers, s)
			total += n
		}
		slices.Sort(servers)
		for _, s := range servers {
			if err := a.recordChange(ctx, q, ChangeAddress, s, map[string]any{"op": "give", "count": given[s]}); err != nil {
				return err
			}
		}
		return nil
	})
	return total, err
}

// checkPools refuses, before anything is issued, a call that would give
// users more addresses than some server's pool has free: a roster larger
// than a pool fails whole rather than after its first batches. The
// allocation in each batch's transaction stays the guard under races.
// roomFor tells, from a count alone, that s's pool has room for n more
// users even if none of them has an address yet; false means "count
// exactly".
func roomFor(ctx context.Context, q *store.Queries, s store.Server, n int) (bool, error) {
	p, err := newPool(s, nil)
	if err != nil {
		return false, err
	}
	used, err := q.CountAddresses(ctx, s.Name)
	if err != nil {
		return false, err
	}
	return used+n <= int(p.end-p.first), nil
}

func (a *Authority) checkPools(ctx context.Context, reqs []UserRequest) error {
	q := a.db.Q()
	servers, err := q.ListServers(ctx)
	if err != nil {
		return err
	}
	for _, s := range servers {
		if room, err := roomFor(ctx, q, s, len(reqs)); err != nil || room {
			if err != nil {
				return err
			}
			continue
		}
		taken, err := q.ServerAddresses(ctx, s.Name)
		if err != nil {
			return err
		}
		p, err := newPool(s, taken)
		if err != nil {
			return err
		}
		has := make(map[string]bool, len(taken))
		for _, x := range taken {
			has[x.User] = true
		}
		need := 0
		for _, r := range reqs {
			if !has[r.Name] {
				need++
			}
		}
		if free := int(p.end-p.first) - len(p.used); need > free {
			return fmt.Errorf("%w: server %s's pool %s is full (%d addresses, %d free, %d needed); give it a larger subnet",
				ErrPoolFull, s.Name, s.Subnet, p.end-p.first, free, need)
		}
	}
	return nil
}
