// Package firewall renders what each OpenVPN server enforces about who may
// reach what, from the users' fixed VPN addresses and their groups'
// rules (internal/access), and loads it into the kernel with nft.
//
// Render is pure: for one server it returns
//
//   - one client-config (CCD) file per user, named by the user (their
//     certificate's CN): `ifconfig-push ADDRESS NETMASK` and one
//     `push "route NET MASK"` per IPv4 destination the user's groups allow,
//     merged, never one inside the tunnel's own subnet, so a laptop learns
//     no route it may not use;
//   - one nftables ruleset for `table inet vpnkeys` and nothing else, written
//     as `table` / `delete table` / `table {...}` so that `nft -f` replaces
//     exactly that table in one transaction (nft 1.0.6 has no `destroy`).
//
// The ruleset's forward chain judges only packets from the tunnel's subnet:
// a verdict map from VPN address to one chain per distinct set of groups
// (`ip saddr vmap @members`) jumps to each group's chain of accept rules,
// and whatever no rule accepts is dropped, including traffic from an
// address nobody holds. IPv6 arriving on the tunnel device is dropped
// (vpnkeys gives users no IPv6 addresses yet; the group chains already
// carry the ip6 rules). Output is sorted, so the same input gives the same
// bytes, and a golden file checks it.
//
// Established flows: the group rules match every packet of a flow, not
// only its first, and nothing accepts `ct state established` before them
// (nor anywhere for packets a user sends in their own flows), so a rule or
// membership removed ends the user's open connections at the next packet:
// the kernel runs the forward hook for each forwarded packet, and the
// conntrack entry left behind lets nothing through. No conntrack flush (and
// no conntrack package, absent on Debian 12 by default) is needed; the
// packet test proves it on the real kernel. The only state-based accept is
// `ct state related` after the groups (ICMP errors about a user's flows,
// which path-MTU discovery needs). A flush is even harmful with a rule
// that accepted `ct direction reply`: the office's next packet would be
// picked up mid-stream as a new flow from the office, and the user's
// packets would become its replies; this ruleset has no such rule.
//
// Check and Apply run the nft binary (`nft -c -f -`, `nft -f -`) with the
// ruleset on stdin: one transaction, so a ruleset the kernel refuses leaves
// the previous one in force, and the error carries nft's message.
package firewall
