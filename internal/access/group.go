package access

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// Group is a named set of rules; its members may reach what any rule
// allows.
type Group struct {
	Name  string
	Rules []Rule
}

// ValidGroupName checks a group name against the same rule as user names
// (account.ValidName): it ends up in nftables chain names and file names.
func ValidGroupName(name string) error {
	if err := account.ValidName(name); err != nil {
		msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
		return fmt.Errorf("%w: group %s", ErrInvalid, msg)
	}
	return nil
}

// Decide reports whether a user in groups may send a packet to addr with
// proto and port. The first group by name that has a matching rule
// decides; its name and the rule are returned. When nothing matches,
// allowed is false and group is "".
func Decide(groups []Group, addr netip.Addr, proto string, port uint16) (allowed bool, group string, rule Rule) {
	sorted := make([]Group, len(groups))
	copy(sorted, groups)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, g := range sorted {
		for _, r := range g.Rules {
			if r.Matches(addr, proto, port) {
				return true, g.Name, r
			}
		}
	}
	return false, "", Rule{}
}
