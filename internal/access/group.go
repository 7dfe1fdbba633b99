package access

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// Group is a named list of rules; its members may reach what any of its
// rules allows.
type Group struct {
	Name  string
	Rules []Rule
}

// ValidGroupName applies the user-name rule of account.ValidName to a
// group name (it ends up in nftables chain names and file comments).
func ValidGroupName(name string) error {
	if account.ValidName(name) != nil {
		return fmt.Errorf("%w: group name %q: use 1 to %d of lowercase a-z, 0-9, '.', '_' or '-', starting with a letter or digit, no \"..\"",
			account.ErrInvalid, name, account.MaxNameLen)
	}
	return nil
}

// Decide reports whether a packet to addr with proto and port is allowed
// for a member of groups: the first group by name with a matching rule
// decides, and within it the first matching rule in order. When nothing
// matches it returns false, "" and the zero Rule.
func Decide(groups []Group, addr netip.Addr, proto string, port uint16) (allowed bool, group string, rule Rule) {
	sorted := slices.Clone(groups)
	slices.SortStableFunc(sorted, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	for _, g := range sorted {
		for _, r := range g.Rules {
			if r.Matches(addr, proto, port) {
				return true, g.Name, r
			}
		}
	}
	return false, "", Rule{}
}
