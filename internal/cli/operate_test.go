package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The host's /etc/vpnkeys/vpnkeys.toml (a machine with the package
// installed) must not reach the tests; TestConfigSearch sets its own path.
func init() { configSearch = nil }

// TestReadOnlyNeverCreates: a command that only reads, in a folder with no
// vpnkeys data, says so in one line, exits 2 and creates nothing.
func TestReadOnlyNeverCreates(t *testing.T) {
	for _, args := range [][]string{
		{"list"}, {"show", "alice"}, {"crl"}, {"crl", "--info"}, {"audit"}, {"server", "list"},
		{"token", "list"}, {"revoke", "alice"}, {"renew", "alice"}, {"serve"}, {"backup", "x.db"},
	} {
		t.Run("fail/"+strings.Join(args, "-"), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "nothing-here")
			r := run(t, nil, append([]string{"--data", data}, args...)...)
			want := "vpnkeys: no vpnkeys data in " + data + ": run vpnkeys init, or give --data/--db/--config\n"
			if r.code != 2 || r.err != want {
				t.Fatalf("got %d %q, want 2 %q", r.code, r.err, want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("%v made %s: %v", args, data, err)
			}
		})
	}
}

// TestConfigSearch: without --config or VPNKEYS_CONFIG the CLI reads
// ./vpnkeys.toml, else the next file of the search path.
func TestConfigSearch(t *testing.T) {
	data, _ := setup(t)
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc-vpnkeys.toml")
	os.WriteFile(etc, []byte("data = \""+data+"\"\n"), 0o644)
	saved := configSearch
	t.Cleanup(func() { configSearch = saved })
	configSearch = []string{"vpnkeys.toml", etc}
	t.Chdir(dir)
	t.Setenv("VPNKEYS_DATA", "")
	t.Setenv("VPNKEYS_CONFIG", "")

	t.Run("ok/system-file", func(t *testing.T) {
		r := run(t, nil, "server", "list")
		if r.code != 0 || !strings.Contains(r.out, "dc1") {
			t.Fatalf("got %+v, want dc1 from the data the system config names", r)
		}
	})
	t.Run("ok/local-file-first", func(t *testing.T) {
		other := filepath.Join(dir, "other")
		os.WriteFile("vpnkeys.toml", []byte("data = \""+other+"\"\n"), 0o644)
		defer os.Remove("vpnkeys.toml")
		r := run(t, nil, "server", "list")
		if r.code != 2 || !strings.Contains(r.err, "no vpnkeys data in "+other) {
			t.Fatalf("got %+v, want ./vpnkeys.toml's data folder", r)
		}
	})
	t.Run("ok/flag-wins", func(t *testing.T) {
		r := run(t, nil, "--config", "/dev/null", "--data", data, "server", "list")
		if r.code != 0 || !strings.Contains(r.out, "dc1") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("fail/unreadable-config-named", func(t *testing.T) {
		os.WriteFile("vpnkeys.toml", []byte("nonsense = 1\n"), 0o644)
		defer os.Remove("vpnkeys.toml")
		r := run(t, nil, "server", "list")
		if r.code != 2 || !strings.Contains(r.err, "vpnkeys.toml") {
			t.Fatalf("got %+v, want exit 2 naming the file", r)
		}
	})
}

// TestCredentialsDirectory: under systemd the passphrase comes from
// $CREDENTIALS_DIRECTORY/ca-passphrase, with no flag and no environment
// variable holding it.
func TestCredentialsDirectory(t *testing.T) {
	data, pf := setup(t)
	creds := t.TempDir()
	b, _ := os.ReadFile(pf)
	t.Setenv(EnvPassphrase, "")
	t.Run("fail/no-credential", func(t *testing.T) {
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		if r := run(t, nil, "--data", data, "crl", "--refresh"); r.code != 2 {
			t.Fatalf("got %+v, want exit 2 (no passphrase)", r)
		}
	})
	os.WriteFile(filepath.Join(creds, CredentialName), b, 0o400)
	t.Run("ok/credential", func(t *testing.T) {
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		if r := run(t, nil, "--data", data, "crl", "--refresh"); r.code != 0 {
			t.Fatalf("got %+v, want the CRL re-signed", r)
		}
	})
	t.Run("ok/stdin", func(t *testing.T) {
		var out, errb strings.Builder
		code := Run(t.Context(), []string{"--data", data, "--passphrase-file", "-", "crl", "--refresh"},
			Stdio{In: strings.NewReader(string(b)), Out: &out, Err: &errb})
		if code != 0 {
			t.Fatalf("got %d %s, want the CRL re-signed", code, errb.String())
		}
	})
	t.Run("fail/wrong-credential", func(t *testing.T) {
		t.Setenv("CREDENTIALS_DIRECTORY", t.TempDir())
		os.WriteFile(filepath.Join(os.Getenv("CREDENTIALS_DIRECTORY"), CredentialName), []byte("wrong\n"), 0o400)
		if r := run(t, nil, "--data", data, "crl", "--refresh"); r.code != 2 {
			t.Fatalf("got %+v, want exit 2 (wrong passphrase)", r)
		}
	})
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.out, "vpnkeys ") || !strings.Contains(r.out, runtime.Version()) || !strings.Contains(r.out, "(commit ") {
		t.Fatalf("got %+v, want version, commit and %s", r, runtime.Version())
	}
}

// TestCompletion asks cobra's completion entry point, as the shell scripts
// do, for names from the database and for flag values.
func TestCompletion(t *testing.T) {
	data, pf := setup(t)
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "bob", "carol"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"ok/users", []string{"show", ""}, []string{"alice", "bob", "carol"}, nil},
		{"ok/users-prefix", []string{"revoke", "b"}, []string{"bob"}, []string{"alice"}},
		{"ok/users-many-skip-given", []string{"revoke", "alice", ""}, []string{"bob"}, []string{"alice"}},
		{"ok/one-user-only", []string{"show", "alice", ""}, nil, []string{"bob"}},
		{"ok/servers", []string{"server", "files", ""}, []string{"dc1"}, []string{"alice"}},
		{"ok/os", []string{"add", "x", "--os", ""}, []string{"windows", "macos", "linux", "android", "ios"}, nil},
		{"ok/lang", []string{"add", "x", "--lang", ""}, []string{"en", "es", "fr", "de", "ru"}, nil},
		{"ok/reason", []string{"revoke", "alice", "--reason", ""}, []string{"key-compromise", "superseded"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append([]string{"__complete", "--data", data}, tc.args...)...)
			lines := strings.Split(r.out, "\n")
			for _, w := range tc.want {
				if !containsLine(lines, w) {
					t.Errorf("got %q, want %s offered", r.out, w)
				}
			}
			for _, n := range tc.not {
				if containsLine(lines, n) {
					t.Errorf("got %q, want no %s", r.out, n)
				}
			}
		})
	}
	t.Run("ok/no-database-created", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "none")
		r := run(t, nil, "__complete", "--data", empty, "show", "")
		if _, err := os.Stat(empty); !os.IsNotExist(err) || r.code != 0 {
			t.Fatalf("got %+v, %v, want no folder made", r, err)
		}
	})
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if name, _, _ := strings.Cut(l, "\t"); name == s {
			return true
		}
	}
	return false
}

func TestGenMan(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, nil, "gen-man", dir); r.code != 0 {
		t.Fatalf("gen-man: %+v", r)
	}
	for _, name := range []string{"vpnkeys.1", "vpnkeys-add.1", "vpnkeys-server-files.1", "vpnkeys-backup.1", "vpnkeys-restore.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.HasPrefix(string(b), ".TH ") || !strings.Contains(string(b), ".SH NAME") {
			t.Errorf("%s: %v, got %.60q, want a man page", name, err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "vpnkeys-gen-man.1")); !os.IsNotExist(err) {
		t.Errorf("the hidden gen-man got a page: %v", err)
	}
}
