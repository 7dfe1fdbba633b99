package cli

import (
	"errors"
	"os"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

var errFirstRemote = usagef("no CA and no server yet: the first 'vpnkeys add' needs --remote HOST:PORT[/udp|/tcp] (where clients reach your OpenVPN server), or run 'vpnkeys init' and 'vpnkeys server add NAME --remote HOST:PORT' first")

// freshData reports whether the SQLite database does not exist yet, so
// nothing has been set up: a command that would create it may still refuse
// without leaving a data folder behind. PostgreSQL is never fresh here.
func (app *app) freshData() bool {
	if authority.IsPostgres(app.dsn) {
		return false
	}
	_, err := os.Stat(app.dsn)
	return errors.Is(err, os.ErrNotExist)
}

// hasRemote reports whether one of servers is reached at remote.
func hasRemote(servers []authority.ServerView, remote string) bool {
	r, err := ovpn.ParseRemote(remote)
	if err != nil {
		return false
	}
	for _, s := range servers {
		if s.Remote == r {
			return true
		}
	}
	return false
}

var errNoPublicURL = usagef("a link needs the public URL where employees reach 'vpnkeys serve': give --public-url https://vpn.example.com, set public_url in the config file, or keep it with 'vpnkeys settings set public_url URL'")
