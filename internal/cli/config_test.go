package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheck: config check prints the settings in effect as the file
// spells them, never a password, and its output is a config that checks
// the same.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "smtp.pass")
	os.WriteFile(passFile, []byte("smtp-s3cret\n"), 0o600)
	file := filepath.Join(dir, "vpnkeys.toml")
	os.WriteFile(file, []byte(`data = "`+filepath.Join(dir, "data")+`"
db = "postgres://vpnkeys:pg-s3cret@db.example.com:5432/vpnkeys?sslmode=verify-full"
company = "Example Ltd"
link_ttl = "72h"
[smtp]
host = "smtp.example.com"
from = "vpn@example.com"
password_file = "`+passFile+`"
backoff = "5s"
`), 0o600)
	check := func(t *testing.T, env map[string]string, file string) string {
		t.Helper()
		r := run(t, env, "--config", file, "config", "check")
		if r.code != 0 {
			t.Fatalf("config check: %+v", r)
		}
		for _, secret := range []string{"pg-s3cret", "env-s3cret", "smtp-s3cret"} {
			if strings.Contains(r.out+r.err, secret) {
				t.Fatalf("config check printed %q:\n%s", secret, r.out)
			}
		}
		for _, goName := range []string{"LinkTTL", "Duration", "PassFile", "000000000"} {
			if strings.Contains(r.out, goName) {
				t.Fatalf("config check printed Go's %q:\n%s", goName, r.out)
			}
		}
		return r.out
	}
	t.Run("ok/file", func(t *testing.T) {
		out := check(t, nil, file)
		for _, want := range []string{
			"\nlink_ttl = \"72h\"\n", "\nbackoff = \"5s\"\n", "\n[smtp]\n", "# smtp password: set",
			"\ndb = \"postgres://vpnkeys:xxxxx@db.example.com:5432/vpnkeys?sslmode=verify-full\"\n",
		} {
			if !strings.Contains(out, want) {
				t.Fatalf("config check: got\n%s\nwant it to hold %q", out, want)
			}
		}
		printed := filepath.Join(t.TempDir(), "printed.toml")
		os.WriteFile(printed, []byte(out), 0o600)
		again := check(t, nil, printed)
		if body(again) != body(out) {
			t.Fatalf("round trip: got\n%s\nwant\n%s", body(again), body(out))
		}
	})
	t.Run("ok/environment wins", func(t *testing.T) {
		out := check(t, map[string]string{"VPNKEYS_DB": "postgres://v:env-s3cret@db2.example.com/v", "VPNKEYS_SMTP_PASSWORD": "env-s3cret"}, file)
		if !strings.Contains(out, "\ndb = \"postgres://v:xxxxx@db2.example.com/v\"\n") {
			t.Fatalf("config check: got\n%s\nwant the db from VPNKEYS_DB", out)
		}
	})
}

// body drops the comment lines that name the file checked.
func body(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
