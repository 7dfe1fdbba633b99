package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestServerSetRemove: server set changes the remote that profiles carry;
// server remove unregisters, revokes the server certificate, is audited,
// and refuses the last server while users have access.
func TestServerSetRemove(t *testing.T) {
	data, pf := setup(t)
	base := []string{"--data", data, "--passphrase-file", pf}
	cli := func(args ...string) result { return run(t, nil, append(base, args...)...) }
	if r := cli("server", "add", "dc2", "--remote", "vpn2.example.com:1194"); r.code != 0 {
		t.Fatalf("server add dc2: %+v", r)
	}
	if r := cli("server", "set", "dc2", "--remote", "vpn2.example.net:443/tcp", "--subnet", "10.9.0.0/24"); r.code != 0 {
		t.Fatalf("server set: %+v", r)
	}
	srvDir := t.TempDir()
	if r := cli("server", "files", "dc2", "--out", srvDir); r.code != 0 {
		t.Fatalf("server files: %+v", r)
	}
	conf, _ := os.ReadFile(filepath.Join(srvDir, "server.conf"))
	if !strings.Contains(string(conf), "port 443") || !strings.Contains(string(conf), "10.9.0.0") {
		t.Fatalf("server.conf after set: want port 443 and 10.9.0.0:\n%s", conf)
	}
	if r := cli("add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	prof, _ := os.ReadFile(filepath.Join(data, "bundles", "alice", "alice.ovpn"))
	if !strings.Contains(string(prof), "vpn2.example.net 443 tcp") {
		t.Fatalf("profile: want remote vpn2.example.net 443 tcp:\n%s", prof)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/set nothing", []string{"server", "set", "dc2"}, "nothing to change"},
		{"fail/set unknown", []string{"server", "set", "dc9", "--remote", "h:1"}, "no such server: dc9"},
		{"fail/set bad remote", []string{"server", "set", "dc2", "--remote", "h:99999"}, "port must be"},
		{"fail/remove unknown", []string{"server", "remove", "dc9"}, "no such server: dc9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := cli(tc.args...); r.code != 2 || !strings.Contains(r.err, tc.want) {
				t.Fatalf("got %+v, want exit 2 with %q", r, tc.want)
			}
		})
	}
	r := cli("server", "remove", "dc2")
	if r.code != 0 || !strings.Contains(r.out, "files stay in "+srvDir) {
		t.Fatalf("server remove: %+v", r)
	}
	if r := cli("server", "list"); strings.Contains(r.out, "dc2") {
		t.Fatalf("server list after remove: %s", r.out)
	}
	if r := cli("crl", "--info"); !strings.Contains(r.out, "1 revoked") {
		t.Fatalf("crl --info: got %q, want the server certificate revoked", r.out)
	}
	if r := cli("audit", "--target", "dc2"); !strings.Contains(r.out, "server.remove") {
		t.Fatalf("audit: got %q, want server.remove", r.out)
	}
	if r := cli("server", "remove", "dc1"); r.code != 2 || !strings.Contains(r.err, "last server") {
		t.Fatalf("removing the last server: got %+v, want exit 2", r)
	}
}

// TestRemoveUser: remove revokes, deletes the bundle, archives and open
// links, and keeps the history.
func TestRemoveUser(t *testing.T) {
	data, pf := setup(t)
	base := []string{"--data", data, "--passphrase-file", pf, "--public-url", "https://vpn.example.com"}
	cli := func(args ...string) result { return run(t, nil, append(base, args...)...) }
	if r := cli("add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	if r := cli("link", "alice"); r.code != 0 {
		t.Fatalf("link: %+v", r)
	}
	r := cli("remove", "alice", "--reason", "affiliation-changed")
	if r.code != 0 || !strings.Contains(r.out, "revoked certificate") || !strings.Contains(r.out, "1 open links deleted") {
		t.Fatalf("remove: %+v", r)
	}
	for _, p := range []string{"alice", "alice.tar.gz", "alice.zip"} {
		if _, err := os.Stat(filepath.Join(data, "bundles", p)); !os.IsNotExist(err) {
			t.Errorf("%s: got %v, want it deleted", p, err)
		}
	}
	r = cli("show", "alice", "--json")
	var d authority.UserDetail
	if err := json.Unmarshal([]byte(r.out), &d); err != nil || d.Status != "revoked" || len(d.Certificates) != 1 {
		t.Fatalf("show after remove: %v %+v, want the revoked certificate kept", err, d)
	}
	if r := cli("audit", "--target", "alice"); !strings.Contains(r.out, "user.remove") {
		t.Fatalf("audit: got %q, want user.remove", r.out)
	}
	if r := cli("remove", "nobody"); r.code != 2 || !strings.Contains(r.err, "no such user") {
		t.Fatalf("remove nobody: %+v", r)
	}
}

// TestAdminList lists admins with their sessions.
func TestAdminList(t *testing.T) {
	data, _ := setup(t)
	env := map[string]string{"VPNKEYS_ADMIN_PASSWORD": "a long admin password"}
	if r := run(t, env, "--data", data, "admin", "add", "ann"); r.code != 0 {
		t.Fatalf("admin add: %+v", r)
	}
	r := run(t, nil, "--data", data, "admin", "list")
	if r.code != 0 || !regexp.MustCompile(`(?m)^ann\s+\d{4}-\d\d-\d\d \S+\s+0\s+-$`).MatchString(r.out) {
		t.Fatalf("admin list: got %q, want ann with 0 sessions", r.out)
	}
}

// TestRevokeReasons: every reason --help lists is accepted, and what is
// refused is refused with the same list.
func TestRevokeReasons(t *testing.T) {
	data, pf := setup(t)
	help := run(t, nil, "revoke", "--help").out
	m := regexp.MustCompile(`reason: ([a-z, -]+) \(default`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("revoke --help lists no reasons:\n%s", help)
	}
	names := strings.Split(m[1], ", ")
	if len(names) < 6 {
		t.Fatalf("reasons in --help: got %v", names)
	}
	for i, n := range names {
		t.Run("ok/"+n, func(t *testing.T) {
			u := "u" + string(rune('a'+i))
			if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", u); r.code != 0 {
				t.Fatalf("add: %+v", r)
			}
			if r := run(t, nil, "--data", data, "--passphrase-file", pf, "revoke", u, "--reason", n); r.code != 0 {
				t.Fatalf("revoke --reason %s: got %+v, want exit 0", n, r)
			}
		})
	}
	t.Run("fail/not listed", func(t *testing.T) {
		r := run(t, nil, "--data", data, "--passphrase-file", pf, "revoke", "ua", "--reason", "certificate-hold")
		if r.code != 2 || !strings.Contains(r.err, "use "+m[1]) {
			t.Fatalf("got %+v, want exit 2 listing %q", r, m[1])
		}
	})
}
