package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerPush: routes, DNS servers and a domain given to server add|set
// are pushed in server.conf; a server.conf.tmpl in the templates folder
// gets the server's data and no longer breaks add.
func TestServerPush(t *testing.T) {
	data, pf := setup(t)
	base := []string{"--data", data, "--passphrase-file", pf}
	cli := func(args ...string) result { return run(t, nil, append(base, args...)...) }
	r := cli("server", "add", "dc2", "--remote", "vpn2.example.com", "--push-route", "10.1.0.0/16",
		"--push-route", "192.168.10.0/24", "--dns", "10.1.0.53", "--domain", "corp.example.com")
	if r.code != 0 {
		t.Fatalf("server add: %+v", r)
	}
	if r := cli("server", "list"); !strings.Contains(r.out, "routes 10.1.0.0/16,192.168.10.0/24; dns 10.1.0.53; domain corp.example.com") {
		t.Fatalf("server list: got %q, want the pushes", r.out)
	}
	conf := func(extra ...string) string {
		t.Helper()
		dir := t.TempDir()
		if r := cli(append([]string{"server", "files", "dc2", "--out", dir}, extra...)...); r.code != 0 {
			t.Fatalf("server files: %+v", r)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "server.conf"))
		return string(b)
	}
	c := conf()
	for _, want := range []string{`push "route 10.1.0.0 255.255.0.0"`, `push "route 192.168.10.0 255.255.255.0"`,
		`push "dhcp-option DNS 10.1.0.53"`, `push "dhcp-option DOMAIN corp.example.com"`} {
		if !strings.Contains(c, want) {
			t.Errorf("server.conf: want %s in:\n%s", want, c)
		}
	}
	if r := cli("server", "set", "dc2", "--dns", "10.1.0.54", "--push-route", ""); r.code != 0 {
		t.Fatalf("server set: %+v", r)
	}
	c = conf()
	if strings.Contains(c, "route 10.1.0.0") || !strings.Contains(c, "DNS 10.1.0.54") || strings.Contains(c, "DNS 10.1.0.53") || !strings.Contains(c, "DOMAIN corp.example.com") {
		t.Fatalf("server.conf after set: want no routes, DNS 10.1.0.54 only, the domain kept:\n%s", c)
	}
	for _, tc := range []struct{ name, flag, value, want string }{
		{"fail/bad route", "--push-route", "10.1.0.0", "IPv4 CIDR"},
		{"fail/bad dns", "--dns", "dns.example.com", "IP address"},
		{"fail/bad domain", "--domain", "corp example\"", "DNS name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := cli("server", "set", "dc2", tc.flag, tc.value); r.code != 2 || !strings.Contains(r.err, tc.want) {
				t.Fatalf("got %+v, want exit 2 with %q", r, tc.want)
			}
			if r := cli("server", "add", "dc9", "--remote", "h", tc.flag, tc.value); r.code != 2 {
				t.Fatalf("server add: got %+v, want exit 2", r)
			}
		})
	}
	t.Run("ok/server.conf.tmpl", func(t *testing.T) {
		tdir := t.TempDir()
		tmpl := "# {{.Name}} on {{.Remote.Port}}\nserver {{.Network}} {{.Netmask}}\n{{range .DNS}}push \"dhcp-option DNS {{.}}\"\n{{end}}"
		os.WriteFile(filepath.Join(tdir, "server.conf.tmpl"), []byte(tmpl), 0o644)
		if r := cli("--templates", tdir, "add", "alice"); r.code != 0 {
			t.Fatalf("add with a server.conf.tmpl: got %+v, want exit 0", r)
		}
		if _, err := os.Stat(filepath.Join(data, "bundles", "alice", "server.conf")); !os.IsNotExist(err) {
			t.Fatalf("server.conf in the bundle: got %v, want none", err)
		}
		c := conf("--templates", tdir, "--force")
		if want := "# dc2 on 1194\nserver 10.8.0.0 255.255.240.0\npush \"dhcp-option DNS 10.1.0.54\"\n"; c != want {
			t.Fatalf("server.conf from the template: got %q, want %q", c, want)
		}
	})
}
