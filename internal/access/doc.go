// Package access is vpnkeys' vocabulary for what a VPN user may reach: a
// Rule names a destination (an IPv4 or IPv6 address or CIDR), optionally a
// protocol (tcp, udp, icmp) and, for tcp and udp, ports; a Group is a named
// list of rules; Decide answers whether a packet to an address, protocol
// and port is allowed and which group's rule decided.
//
// The written form of a rule is DEST[:PROTO[/PORTS]]:
//
//	10.1.5.3              every protocol to one address
//	10.1.0.0/16:tcp/22,443,8000-8100
//	10.1.5.3:udp/53
//	10.1.0.0/16:icmp      icmp for IPv4, icmpv6 for IPv6
//	2001:db8::/32         an IPv6 destination without a protocol
//	[2001:db8::1]:tcp/443 an IPv6 destination with one: in brackets
//
// ParseRule accepts it and Rule.String prints the canonical form that is
// stored and shown: the CIDR masked (a single address without /32 or
// /128), the protocol in lower case, the ports sorted and merged. A rule
// whose prefix length is 0 (0.0.0.0/0, ::/0) parses, and AllowsEverything
// reports it so the front ends can refuse it unless the operator insists.
//
// The package is pure: no I/O, no state. internal/firewall renders these
// rules into each server's nftables ruleset and client-config files.
package access
