package cli

import "github.com/vpnkeys/vpnkeys/internal/fault"

// hints tells a CLI user what to run next, keyed by the code of the
// service's error (package fault). The service's own texts never name a
// command or a flag: an API client reads them too, and has neither.
var hints = map[string]string{
	"not_initialized":   "run 'vpnkeys init' first",
	"no_servers":        "add one with 'vpnkeys server add NAME --remote HOST:PORT'",
	"no_email":          "add one with 'vpnkeys add USER --email ADDRESS'",
	"allows_everything": "add --i-mean-it if every destination is meant",
	"pool_full":         "give the server a larger pool with 'vpnkeys server set SERVER --subnet CIDR'",
}

// hint returns the line to print after err, or "".
func hint(err error) string {
	if h, ok := hints[fault.CodeOf(err)]; ok {
		return "hint: " + h
	}
	return ""
}
