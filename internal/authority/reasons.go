package authority

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// userReasons are the reasons a user's access may be revoked with, in the
// order help texts list them. CA compromise and certificate hold are left
// out: the first is not about a user, the second is a temporary state
// vpnkeys never lifts. One list feeds every front end's help, the parser
// and its error.
var userReasons = []reasonName{
	{"unspecified", pki.Unspecified},
	{"key-compromise", pki.KeyCompromise},
	{"affiliation-changed", pki.AffiliationChanged},
	{"superseded", pki.Superseded},
	{"cessation-of-operation", pki.CessationOfOperation},
	{"privilege-withdrawn", pki.PrivilegeWithdrawn},
}

type reasonName struct {
	name   string
	reason pki.Reason
}

// Reasons lists the revocation reasons a user may be revoked with, as they
// are spelled on the command line and in the API.
func Reasons() []string {
	names := make([]string, len(userReasons))
	for i, r := range userReasons {
		names[i] = r.name
	}
	return names
}

// ValidReason checks a revocation reason before anything else is done
// (a front end can refuse a bad one before asking for the passphrase).
func ValidReason(s string) error {
	_, err := parseReason(s)
	return err
}

// parseReason reads a user revocation reason in kebab-case or openssl's
// camelCase; "" is unspecified.
func parseReason(s string) (pki.Reason, error) {
	r, err := pki.ParseReason(s)
	if err == nil && slices.ContainsFunc(userReasons, func(u reasonName) bool { return u.reason == r }) {
		return r, nil
	}
	return 0, fmt.Errorf("%w: revocation reason %q: use %s", account.ErrInvalid, s, strings.Join(Reasons(), ", "))
}
