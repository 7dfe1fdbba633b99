package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// joinRows counts the join tokens stored in data's database.
func joinRows(t *testing.T, data string) int {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM agent_joins`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServerEnroll: the token is printed (or written to a 0600 file, and
// then only where it went is printed) and stored once; bad input exits 2
// and stores nothing.
func TestServerEnroll(t *testing.T) {
	data, _ := setup(t)
	dir := t.TempDir()
	t.Run("ok/printed", func(t *testing.T) {
		r := run(t, nil, "--data", data, "server", "enroll", "dc1")
		if r.code != 0 {
			t.Fatalf("server enroll: %+v", r)
		}
		if _, _, err := agentwire.ParseToken(strings.TrimSpace(r.out)); err != nil {
			t.Errorf("stdout %q: %v, want the token alone", r.out, err)
		}
		if !strings.Contains(r.err, "dc1: usable once, until") {
			t.Errorf("stderr %q: want the expiry", r.err)
		}
	})
	t.Run("ok/token file", func(t *testing.T) {
		f := filepath.Join(dir, "dc1.token")
		r := run(t, nil, "--data", data, "server", "enroll", "dc1", "--token-file", f)
		if r.code != 0 || !strings.Contains(r.out, "written to "+f) {
			t.Fatalf("server enroll --token-file: %+v", r)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := agentwire.ParseToken(string(b))
		if err != nil {
			t.Fatalf("token file %q: %v", b, err)
		}
		if strings.Contains(r.out+r.err, secret) {
			t.Errorf("the token was printed too: %+v", r)
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("token file mode: got %v, want 0600", fi.Mode().Perm())
		}
	})
	before := joinRows(t, data)
	for name, args := range map[string][]string{
		"fail/unknown server":   {"server", "enroll", "dc9"},
		"fail/bad name":         {"server", "enroll", "../dc1"},
		"fail/no name":          {"server", "enroll"},
		"fail/missing folder":   {"server", "enroll", "dc1", "--token-file", filepath.Join(dir, "nope", "t")},
		"fail/folder as file":   {"server", "enroll", "dc1", "--token-file", dir},
		"fail/unknown, to file": {"server", "enroll", "dc9", "--token-file", filepath.Join(dir, "dc9.token")},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data}, args...)...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") > 1 {
				t.Errorf("%v: got exit %d %q, want 2 and a short message", args, r.code, r.err)
			}
		})
	}
	if after := joinRows(t, data); after != before {
		t.Errorf("join tokens after bad input: got %d, want %d", after, before)
	}
	if _, err := os.Stat(filepath.Join(dir, "dc9.token")); !os.IsNotExist(err) {
		t.Errorf("a token file was written for an unknown server: %v", err)
	}
}
