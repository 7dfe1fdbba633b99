// Package access is the vocabulary of vpnkeys' access control: a rule
// names a destination a group may reach (DEST[:PROTO[/PORTS]]), a group is
// a name with its rules, and Decide answers whether a packet from a user
// in some groups is allowed and which group's rule decided.
//
// Everything here is pure: no I/O, no clock. Rules are parsed from outside
// input (argv, JSON, a web form) and kept in their canonical form, the
// string String returns: the CIDR masked (a single address printed bare),
// the protocol lower-case, ports sorted and merged. Parsing the canonical
// form gives the same rule back, so the store keeps only strings.
package access
