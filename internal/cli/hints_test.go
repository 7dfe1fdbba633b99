package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestHints: the service says what is wrong without naming a command; the
// CLI adds, on a line of its own, what to run.
func TestHints(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	bare := filepath.Join(dir, "bare")
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte(pass+"\n"), 0o600)
	if r := run(t, nil, "--data", bare, "--passphrase-file", passFile, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	// A database with no CA in it (a folder with none gets "no vpnkeys data").
	db, err := store.Open(t.Context(), filepath.Join(empty, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		name             string
		args             []string
		message, hintTxt string
	}{
		{"ok/no CA", []string{"--data", empty, "crl"}, "vpnkeys: no CA yet", "hint: run 'vpnkeys init' first"},
		{"ok/no server", []string{"--data", bare, "--passphrase-file", passFile, "add", "bob"},
			"vpnkeys: no OpenVPN server registered", "hint: add one with 'vpnkeys server add NAME --remote HOST:PORT'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			lines := strings.Split(strings.TrimSpace(r.err), "\n")
			if r.code != 2 || len(lines) != 2 {
				t.Fatalf("got exit %d and %d lines %q, want 2 and an error line and a hint", r.code, len(lines), r.err)
			}
			if lines[0] != tc.message {
				t.Errorf("error line: got %q, want %q", lines[0], tc.message)
			}
			if lines[1] != tc.hintTxt {
				t.Errorf("hint line: got %q, want %q", lines[1], tc.hintTxt)
			}
		})
	}
}
