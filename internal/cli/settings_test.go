package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSettingsKept: --company given at init is kept in the database and
// used by later commands; flags still win; settings set validates.
func TestSettingsKept(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pf := filepath.Join(dir, "pass")
	os.WriteFile(pf, []byte(pass+"\n"), 0o600)
	base := []string{"--data", data, "--passphrase-file", pf}
	if r := run(t, nil, append(base, "--company", "Example Ltd", "--public-url", "https://vpn.example.com", "init")...); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	r := run(t, nil, append(base, "settings")...)
	if r.code != 0 || !strings.Contains(r.out, "Example Ltd") || !strings.Contains(r.out, "https://vpn.example.com") {
		t.Fatalf("settings: got %+v, want the company and public URL kept", r)
	}
	if r := run(t, nil, append(base, "server", "add", "dc1", "--remote", "vpn1.example.com")...); r.code != 0 {
		t.Fatalf("server add: %+v", r)
	}
	if r := run(t, nil, append(base, "add", "alice")...); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	ovpn, _ := os.ReadFile(filepath.Join(data, "bundles", "alice", "alice.ovpn"))
	if !strings.Contains(string(ovpn), "Example Ltd") {
		t.Fatalf("alice.ovpn does not name the company kept at init:\n%s", ovpn)
	}
	// A flag wins over the stored value.
	if r := run(t, nil, append(base, "--company", "Other Co", "add", "bob")...); r.code != 0 {
		t.Fatalf("add bob: %+v", r)
	}
	ovpn, _ = os.ReadFile(filepath.Join(data, "bundles", "bob", "bob.ovpn"))
	if !strings.Contains(string(ovpn), "Other Co") {
		t.Fatalf("bob.ovpn: want the company from the flag")
	}
	for _, tc := range []struct{ name, key, value, want string }{
		{"fail/unknown key", "colour", "red", "unknown setting"},
		{"fail/bad url", "public_url", "vpn.example.com", "public_url must be"},
		{"fail/bad ttl", "link_ttl", "three days", "link_ttl must be"},
		{"fail/bad days", "cert_days", "0", "cert_days must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append(base, "settings", "set", tc.key, tc.value)...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) {
				t.Fatalf("got %+v, want exit 2 with %q", r, tc.want)
			}
		})
	}
	t.Run("fail/bad public url at init changes nothing", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "data")
		r := run(t, nil, "--data", fresh, "--passphrase-file", pf, "--public-url", "vpn.example.com", "init")
		if r.code != 2 || !strings.Contains(r.err, "public_url must be") {
			t.Fatalf("got %+v, want exit 2", r)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	t.Run("ok/set", func(t *testing.T) {
		if r := run(t, nil, append(base, "settings", "set", "link_ttl", "24h")...); r.code != 0 {
			t.Fatalf("settings set: %+v", r)
		}
		r := run(t, nil, append(base, "settings")...)
		if !strings.Contains(r.out, "24h") {
			t.Fatalf("settings: got %q, want link_ttl 24h", r.out)
		}
	})
}
