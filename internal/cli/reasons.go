package cli

import (
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// userReasons are the reasons revoke and remove accept, in the order
// --help lists them. CA compromise and certificate hold are left out: the
// first is not about a user, the second is a temporary state vpnkeys
// never lifts. One list feeds the help, the parser and its error.
type userReason struct {
	name   string
	reason pki.Reason
}

var userReasons = []userReason{
	{"unspecified", pki.Unspecified},
	{"key-compromise", pki.KeyCompromise},
	{"affiliation-changed", pki.AffiliationChanged},
	{"superseded", pki.Superseded},
	{"cessation-of-operation", pki.CessationOfOperation},
	{"privilege-withdrawn", pki.PrivilegeWithdrawn},
}

func reasonNames() string {
	names := make([]string, len(userReasons))
	for i, r := range userReasons {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// reasonHelp is the --reason flag's help text.
func reasonHelp() string { return "reason: " + reasonNames() + " (default unspecified)" }

// parseUserReason reads --reason in kebab-case or openssl's camelCase.
func parseUserReason(s string) (pki.Reason, error) {
	r, err := pki.ParseReason(s)
	if err == nil && slices.ContainsFunc(userReasons, func(u userReason) bool { return u.reason == r }) {
		return r, nil
	}
	return 0, usagef("revocation reason %q: use %s", s, reasonNames())
}
