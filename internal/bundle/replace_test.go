package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReplace: Replace exchanges an existing folder (a file the new bundle
// lacks goes with the old one) and never makes a folder that is not there.
func TestReplace(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bundles")
	st, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	files := []File{{Name: "alice.ovpn", Mode: 0o600, Data: []byte("new\n")}}
	stage := func(user string) *Staged {
		t.Helper()
		s, err := st.Stage(user, files, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := Sync([]*Staged{s}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("ok/exchange", func(t *testing.T) {
		old := filepath.Join(out, "alice")
		os.MkdirAll(old, 0o700)
		os.WriteFile(filepath.Join(old, "alice-tls-auth.ovpn"), []byte("stale\n"), 0o600)
		if err := stage("alice").Replace(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(old, "alice-tls-auth.ovpn")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale profile: got %v, want gone", err)
		}
		if b, _ := os.ReadFile(filepath.Join(old, "alice.ovpn")); string(b) != "new\n" {
			t.Errorf("alice.ovpn: got %q, want %q", b, "new\n")
		}
		if _, err := os.Stat(filepath.Join(out, "alice.zip")); err != nil {
			t.Errorf("alice.zip: %v", err)
		}
	})
	t.Run("fail/no-folder", func(t *testing.T) {
		if err := stage("bob").Replace(); !errors.Is(err, ErrNoFolder) {
			t.Fatalf("got %v, want ErrNoFolder", err)
		}
		for _, p := range []string{"bob", "bob.zip", "bob.tar.gz"} {
			if _, err := os.Stat(filepath.Join(out, p)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: got %v, want nothing made", p, err)
			}
		}
		if ents, _ := os.ReadDir(st.dir); len(ents) != 0 {
			t.Errorf("staging holds %d entries after the refusal, want 0", len(ents))
		}
	})
}
