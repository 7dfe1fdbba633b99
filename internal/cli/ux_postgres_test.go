package cli

import (
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestUXPostgres runs the settings, server set|remove, push, remove and
// admin list queries on PostgreSQL, as the SQLite tests do.
func TestUXPostgres(t *testing.T) {
	data, pf := setupDB(t, pgtest.Start(t))
	base := []string{"--data", data, "--passphrase-file", pf}
	steps := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"settings", "set", "company", "Example Ltd"}, "kept"},
		{nil, []string{"settings", "set", "company", "Example GmbH"}, "kept"},
		{nil, []string{"settings"}, "Example GmbH"},
		{nil, []string{"server", "add", "dc2", "--remote", "vpn2.example.com", "--push-route", "10.1.0.0/16", "--dns", "10.1.0.53"}, "registered"},
		{nil, []string{"server", "set", "dc2", "--domain", "corp.example.com", "--remote", "vpn2.example.com:443/tcp"}, "443/tcp"},
		{nil, []string{"server", "list"}, "routes 10.1.0.0/16; dns 10.1.0.53; domain corp.example.com"},
		{nil, []string{"--public-url", "https://vpn.example.com", "add", "alice"}, "issued"},
		{nil, []string{"--public-url", "https://vpn.example.com", "link", "alice"}, "https://vpn.example.com/l/"},
		{nil, []string{"remove", "alice"}, "1 open links deleted"},
		{nil, []string{"server", "remove", "dc2"}, "removed"},
		{map[string]string{"VPNKEYS_ADMIN_PASSWORD": "a long admin password"}, []string{"admin", "add", "ann"}, "can sign in"},
		{nil, []string{"admin", "list"}, "ann"},
	}
	for _, s := range steps {
		r := run(t, s.env, append(base, s.args...)...)
		if r.code != 0 || !strings.Contains(r.out, s.want) {
			t.Fatalf("%v: got %+v, want exit 0 with %q", s.args, r, s.want)
		}
	}
}
