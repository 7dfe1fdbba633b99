package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// expiresIn is the date a certificate of days issued now ends on (UTC, as
// the CLI prints it).
func expiresIn(days int) string {
	return "(expires " + time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) + ")"
}

// TestDays: the lifetime of user and server certificates comes from
// --days, else VPNKEYS_CERT_DAYS or the config file's cert_days, else the
// settings table, else 825 days; `expiring` lists what is due by date.
func TestDays(t *testing.T) {
	data, pf := setup(t)
	cfg := filepath.Join(t.TempDir(), "vpnkeys.toml")
	os.WriteFile(cfg, []byte("cert_days = 60\n"), 0o600)
	base := []string{"--data", data, "--passphrase-file", pf}
	steps := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"ok/default", nil, []string{"add", "ann"}, expiresIn(825)},
		{"ok/flag", nil, []string{"add", "alice", "--days", "30"}, expiresIn(30)},
		{"ok/config", nil, []string{"--config", cfg, "add", "bob"}, expiresIn(60)},
		{"ok/env beats config", map[string]string{"VPNKEYS_CERT_DAYS": "90"}, []string{"--config", cfg, "add", "carol"}, expiresIn(90)},
		{"ok/flag beats env", map[string]string{"VPNKEYS_CERT_DAYS": "90"}, []string{"add", "dave", "--days", "10"}, expiresIn(10)},
		{"ok/settings set", nil, []string{"settings", "set", "cert_days", "45"}, "kept"},
		{"ok/setting", nil, []string{"add", "erin"}, expiresIn(45)},
		{"ok/config beats setting", nil, []string{"--config", cfg, "add", "frank"}, expiresIn(60)},
		{"ok/renew", nil, []string{"renew", "alice", "--days", "20"}, expiresIn(20)},
		{"ok/server add", nil, []string{"server", "add", "dc2", "--remote", "vpn2.example.com:1194", "--days", "5"}, "server dc2 registered"},
		{"ok/server files issue the 5-day certificate", nil, []string{"server", "files", "dc2", "--out", filepath.Join(t.TempDir(), "dc2")}, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := run(t, s.env, append(base, s.args...)...)
			if r.code != 0 || !strings.Contains(r.out, s.want) {
				t.Fatalf("got exit %d %q %q, want 0 and %q", r.code, r.out, r.err, s.want)
			}
		})
	}
	t.Run("ok/expiring", func(t *testing.T) {
		r := run(t, nil, "--data", data, "expiring", "--within", "3w", "--json")
		var list []authority.ExpiringView
		if err := json.Unmarshal([]byte(r.out), &list); r.code != 0 || err != nil {
			t.Fatalf("got exit %d %q %v", r.code, r.err, err)
		}
		var got []string
		for _, v := range list {
			got = append(got, v.Kind+":"+v.Name)
		}
		if g := strings.Join(got, " "); g != "server:dc2 user:dave user:alice" {
			t.Errorf("got %q, want %q", g, "server:dc2 user:dave user:alice")
		}
		r = run(t, nil, "--data", data, "expiring")
		if r.code != 0 || !strings.Contains(r.out, "KIND") || strings.Count(r.out, "\n") != 4 {
			t.Errorf("got exit %d %q, want a header and dc2, dave, alice", r.code, r.out)
		}
		r = run(t, nil, "--data", data, "list", "--status", "expiring", "--within", "2w")
		if r.code != 0 || !strings.Contains(r.out, "dave") || strings.Contains(r.out, "alice") {
			t.Errorf("list --within 2w: got exit %d %q, want dave only", r.code, r.out)
		}
	})
}

// TestDaysRefused: every bad lifetime or horizon exits 2 with one line
// naming it, and leaves the database as it was.
func TestDaysRefused(t *testing.T) {
	data, pf := setup(t)
	base := []string{"--data", data, "--passphrase-file", pf}
	if r := run(t, nil, append(base, "add", "alice")...); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "vpnkeys.toml")
	os.WriteFile(bad, []byte("cert_days = 4000\n"), 0o600)
	fresh := filepath.Join(t.TempDir(), "fresh")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"fail/add zero", nil, []string{"add", "bob", "--days", "0"}, "days 0: a certificate lifetime must be 1 to 3650 days"},
		{"fail/add negative", nil, []string{"add", "bob", "--days", "-7"}, "days -7"},
		{"fail/add too long", nil, []string{"add", "bob", "--days", "3651"}, "1 to 3650"},
		{"fail/add outlives CA", nil, []string{"add", "bob", "--days", "3650"}, "would outlive the CA, which expires on " + time.Now().UTC().AddDate(0, 0, 3650).Format(time.DateOnly) + "; at most 3649 days fit"},
		{"fail/renew zero", nil, []string{"renew", "alice", "--days", "0"}, "1 to 3650"},
		{"fail/renew outlives CA", nil, []string{"renew", "alice", "--days", "3650"}, "outlive the CA"},
		{"fail/server add negative", nil, []string{"server", "add", "dc2", "--remote", "vpn2.example.com:1194", "--days", "-1"}, "days -1"},
		{"fail/server add outlives CA", nil, []string{"server", "add", "dc2", "--remote", "vpn2.example.com:1194", "--days", "3650"}, "at most 3649 days fit"},
		{"fail/env", map[string]string{"VPNKEYS_CERT_DAYS": "0"}, []string{"add", "bob"}, "VPNKEYS_CERT_DAYS \"0\": want 1 to 3650 days"},
		{"fail/config", nil, []string{"--config", bad, "add", "bob"}, "cert_days 4000: want 1 to 3650 days"},
		{"fail/setting", nil, []string{"settings", "set", "cert_days", "3651"}, "cert_days must be a whole number of days from 1 to 3650"},
		{"fail/expiring zero", nil, []string{"expiring", "--within", "0d"}, "within \"0d\""},
		{"fail/expiring unit", nil, []string{"expiring", "--within", "30m"}, "such as 30d, 12h or 2w"},
		{"fail/list within alone", nil, []string{"list", "--within", "2w"}, "--within goes with --status expiring"},
		{"fail/list within bad", nil, []string{"list", "--status", "expiring", "--within", "-2w"}, "within \"-2w\""},
		{"fail/init zero", nil, []string{"--data", fresh, "init", "--days", "0"}, "the CA's lifetime must be 1 to 36500 days"},
		{"fail/init too long", nil, []string{"--data", fresh, "init", "--ca-days", "36501"}, "1 to 36500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countRows(t, data)
			r := run(t, tc.env, append(base, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") > 0 {
				t.Fatalf("got exit %d %q, want 2 and one line with %q", r.code, r.err, tc.want)
			}
			if after := countRows(t, data); after != before {
				t.Errorf("rows: got %s, want %s (nothing changed)", after, before)
			}
			if _, err := os.Stat(fresh); err == nil {
				t.Errorf("got a data folder %s, want none", fresh)
			}
		})
	}
}

// countRows sums up the tables a refused command must leave alone.
func countRows(t *testing.T, data string) string {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	for _, q := range []string{`SELECT COUNT(*) FROM certificates`, `SELECT COUNT(*) FROM users`, `SELECT COUNT(*) FROM servers`,
		`SELECT COUNT(*) FROM settings`, `SELECT COUNT(*) FROM audit`, `SELECT COALESCE(MAX(number), 0) FROM crl`} {
		var n string
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return strings.Join(out, "/")
}
