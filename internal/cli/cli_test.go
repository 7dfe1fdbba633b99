package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

const pass = "cli test passphrase"

func TestMain(m *testing.M) { pgtest.Main(m) }

type result struct {
	code     int
	out, err string
}

// run runs the CLI in-process with stdin that is not a terminal.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	r := result{code, out.String(), errb.String()}
	if strings.Contains(r.out+r.err, pass) {
		t.Fatalf("the passphrase was printed:\n%s%s", r.out, r.err)
	}
	return r
}

func setup(t *testing.T) (data, passFile string) {
	t.Helper()
	return setupDB(t, "")
}

// setupDB makes a CA and a server; with a dsn, on that database (the
// VPNKEYS_DB environment variable, as an operator would set it).
func setupDB(t *testing.T, dsn string) (data, passFile string) {
	t.Helper()
	if dsn != "" {
		t.Setenv("VPNKEYS_DB", dsn)
	}
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	passFile = filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte(pass+"\n"), 0o600)
	if r := run(t, nil, "--data", data, "--passphrase-file", passFile, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := run(t, nil, "--data", data, "server", "add", "dc1", "--remote", "vpn1.example.com:1194"); r.code != 0 {
		t.Fatalf("server add: %+v", r)
	}
	return data, passFile
}

func TestFlow(t *testing.T) { flow(t, "") }

// TestFlowPostgres runs the same commands on PostgreSQL.
func TestFlowPostgres(t *testing.T) { flow(t, pgtest.Start(t)) }

func flow(t *testing.T, dsn string) {
	data, pf := setupDB(t, dsn)
	r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "--email", "alice@example.com", "--os", "macos", "--lang", "fr")
	if r.code != 0 || !strings.Contains(r.out, "alice: issued certificate") {
		t.Fatalf("add: %+v", r)
	}
	r = run(t, nil, "--data", data, "list", "--json")
	var users []authority.UserView
	if err := json.Unmarshal([]byte(r.out), &users); err != nil || len(users) != 1 {
		t.Fatalf("list --json: %v %q", err, r.out)
	}
	if u := users[0]; u.Name != "alice" || u.Email != "alice@example.com" || u.OS != "macos" || u.Lang != "fr" || u.Status != "active" {
		t.Fatalf("list --json: got %+v", u)
	}
	// The passphrase from the environment works as well as from a file.
	r = run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "revoke", "alice", "--reason", "key-compromise")
	if r.code != 0 || !strings.Contains(r.out, "alice: revoked") {
		t.Fatalf("revoke: %+v", r)
	}
	r = run(t, nil, "--data", data, "show", "alice")
	if r.code != 0 || !strings.Contains(r.out, "keyCompromise") {
		t.Fatalf("show: %+v", r)
	}
	r = run(t, nil, "--data", data, "crl", "--info")
	if r.code != 0 || !strings.Contains(r.out, "1 revoked") {
		t.Fatalf("crl --info: %+v", r)
	}
	r = run(t, nil, "--data", data, "crl")
	if r.code != 0 || !strings.HasPrefix(r.out, "-----BEGIN X509 CRL-----") {
		t.Fatalf("crl: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(data, "vpnkeys.db")); dsn != "" && err == nil {
		t.Fatal("the PostgreSQL run wrote an SQLite database")
	}
}

func TestFirstUse(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	r := run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "add", "alice", "--remote", "vpn.example.com:1194")
	if r.code != 0 || !strings.Contains(r.out, "CA created") || !strings.Contains(r.out, "server vpn registered") {
		t.Fatalf("first add: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(data, "bundles", "alice", "alice.ovpn")); err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	data, pf := setup(t)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("Tr0ub4dor&3\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"fail/no user", nil, []string{"add"}, "missing USER"},
		{"fail/unknown flag", nil, []string{"add", "bob", "--colour"}, "unknown flag"},
		{"fail/unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"fail/wrong passphrase", nil, []string{"--passphrase-file", wrong, "add", "bob"}, "wrong CA passphrase"},
		{"fail/no passphrase", nil, []string{"add", "bob"}, "no CA passphrase"},
		{"fail/unknown user", nil, []string{"--passphrase-file", pf, "revoke", "carol"}, "no such user: carol"},
		{"fail/unknown server", nil, []string{"--passphrase-file", pf, "server", "files", "dc9", "--out", t.TempDir()}, "no such server: dc9"},
		{"fail/server exists", nil, []string{"server", "add", "dc1", "--remote", "h:1"}, "already exists"},
		{"fail/bad remote", nil, []string{"server", "add", "dc2", "--remote", "h:99999"}, "port must be"},
		{"fail/bad os", nil, []string{"--passphrase-file", pf, "add", "bob", "--os", "beos"}, "use windows, macos, linux, android or ios"},
		{"fail/bad lang", nil, []string{"--passphrase-file", pf, "add", "bob", "--lang", "xx"}, "use en, es, fr, de or ru"},
		{"fail/bad email", nil, []string{"--passphrase-file", pf, "add", "bob", "--email", "bob at example"}, "email"},
		{"fail/bad reason", nil, []string{"--passphrase-file", pf, "revoke", "bob", "--reason", "boredom"}, "revocation reason"},
		{"fail/init twice", nil, []string{"--passphrase-file", pf, "init"}, "already exists"},
		{"fail/bad algo", map[string]string{}, []string{"--data", filepath.Join(t.TempDir(), "x"), "init", "--algo", "dsa"}, "algorithm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data", data}, tc.args...)
			r := run(t, tc.env, args...)
			if r.code != 2 {
				t.Fatalf("exit code: got %d, want 2 (%+v)", r.code, r)
			}
			if !strings.Contains(r.err, tc.want) {
				t.Fatalf("stderr: got %q, want it to mention %q", r.err, tc.want)
			}
			if first := strings.SplitN(r.err, "\n", 2)[0]; !strings.HasPrefix(first, "vpnkeys: ") {
				t.Fatalf("stderr's first line: got %q, want one 'vpnkeys: ...' line", first)
			}
		})
	}
	r := run(t, nil, "--data", data, "list", "--json")
	if strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("users after refusals: got %s, want []", r.out)
	}
}

// TestHostileNames: at least 30 hostile names, each refused with exit 2
// before anything is created on disk.
func TestHostileNames(t *testing.T) {
	names := []string{
		"/", "../etc", "a/b", "..", "-rf", ".hidden", "a b", "a'b", `a"b`, "$(reboot)", "a$b", "a;b", "a`id`",
		"a\nb", "a\tb", "алиса", "josé", strings.Repeat("a", 65), "Alice", "a*", `a\b`, "a|b", "a&b", "a<b",
		"a>b", "a(b)", "a{b}", "~root", "a%b", "a!b", "a?b", "a,b", "a:b", "a@b", "a..b", "",
	}
	dir := t.TempDir()
	for _, name := range names {
		data := filepath.Join(dir, "data")
		r := run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "add", name, "--remote", "vpn.example.com:1194")
		if r.code != 2 {
			t.Errorf("add %q: exit code %d, want 2 (%s)", name, r.code, r.err)
		}
		if strings.Count(strings.TrimSpace(r.err), "\n") > 1 {
			t.Errorf("add %q: stderr has more than two lines: %q", name, r.err)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("add %q created %s", name, data)
		}
	}
}
