package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSModeCLI: --tls-mode on server add and server set; an unknown mode
// is one line, exit 2, and changes nothing; server files and profiles
// follow each server's mode, and revoking refreshes revoked-serials.
func TestTLSModeCLI(t *testing.T) {
	data, pf := setup(t)
	list := func() string {
		r := run(t, nil, "--data", data, "server", "list")
		if r.code != 0 {
			t.Fatalf("server list: %+v", r)
		}
		return r.out
	}
	before := list()
	for _, args := range [][]string{
		{"server", "add", "dc2", "--remote", "vpn2.example.com:1194", "--tls-mode", "tls-magic"},
		{"server", "set", "dc1", "--tls-mode", "TLS-AUTH"},
	} {
		t.Run("fail/"+args[1], func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data, "--passphrase-file", pf}, args...)...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") != 0 || !strings.Contains(r.err, "--tls-mode") {
				t.Fatalf("got %d %q, want exit 2 and one line naming --tls-mode", r.code, r.err)
			}
			if got := list(); got != before {
				t.Fatalf("server list changed:\n%s\nwant\n%s", got, before)
			}
		})
	}
	if !strings.Contains(before, "tls-crypt") {
		t.Fatalf("server list: got\n%s\nwant dc1 with tls-crypt", before)
	}
	r := run(t, nil, "--data", data, "server", "set", "dc1", "--tls-mode", "tls-auth")
	if r.code != 0 || !strings.Contains(r.out, "control channel now tls-auth") {
		t.Fatalf("server set --tls-mode: %+v", r)
	}
	r = run(t, nil, "--data", data, "server", "add", "dc2", "--remote", "vpn2.example.com:1194", "--tls-mode", "tls-crypt-v2")
	if r.code != 0 || !strings.Contains(r.out, "control channel tls-crypt-v2") {
		t.Fatalf("server add --tls-mode: %+v", r)
	}
	if l := list(); !strings.Contains(l, "tls-auth") || !strings.Contains(l, "tls-crypt-v2") {
		t.Fatalf("server list: got\n%s\nwant tls-auth and tls-crypt-v2", l)
	}
	dir := t.TempDir()
	for _, s := range []string{"dc1", "dc2"} {
		if r := run(t, nil, "--data", data, "--passphrase-file", pf, "server", "files", s, "--out", filepath.Join(dir, s)); r.code != 0 {
			t.Fatalf("server files %s: %+v", s, r)
		}
	}
	if conf, _ := os.ReadFile(filepath.Join(dir, "dc1", "server.conf")); !strings.Contains(string(conf), "\ntls-auth ta.key 0\n") {
		t.Fatalf("dc1 server.conf lacks tls-auth:\n%s", conf)
	}
	for name, mode := range map[string]os.FileMode{"tls-crypt-v2-server.key": 0o600, "tls-crypt-v2-verify.sh": 0o755, "revoked-serials": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, "dc2", name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("dc2/%s: got %v %v, want mode %04o", name, fi, err, mode)
		}
	}
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	b := filepath.Join(data, "bundles", "alice")
	first, _ := os.ReadFile(filepath.Join(b, "alice.ovpn"))
	second, _ := os.ReadFile(filepath.Join(b, "alice-tls-crypt-v2.ovpn"))
	if !strings.Contains(string(first), "<tls-auth>") || !strings.Contains(string(second), "<tls-crypt-v2>") {
		t.Fatalf("profiles: got\n%s\n---\n%s\nwant tls-auth in alice.ovpn, tls-crypt-v2 in alice-tls-crypt-v2.ovpn", first, second)
	}
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "revoke", "alice"); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	r = run(t, nil, "--data", data, "show", "alice", "--json")
	revoked, _ := os.ReadFile(filepath.Join(dir, "dc2", "revoked-serials"))
	if len(revoked) == 0 || !strings.Contains(r.out, strings.TrimSpace(string(revoked))) {
		t.Fatalf("revoked-serials after revoke: got %q, want alice's serial (show: %s)", revoked, r.out)
	}
}
