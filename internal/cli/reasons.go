package cli

import (
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// reasonHelp is the --reason flag's help text, from the service's one list.
func reasonHelp() string {
	return "reason: " + strings.Join(authority.Reasons(), ", ") + " (default unspecified)"
}

// reasonOrDefault is the reason as the output names it.
func reasonOrDefault(r string) string {
	if r == "" {
		return "unspecified"
	}
	return r
}
