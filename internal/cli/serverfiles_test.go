package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerFilesOverwrite: server files refuses to replace a file it did
// not write or that was edited since, unless --force, which keeps a backup
// with the same mode.
func TestServerFilesOverwrite(t *testing.T) {
	data, pf := setup(t)
	files := func(dir string, extra ...string) result {
		return run(t, nil, append([]string{"--data", data, "--passphrase-file", pf, "server", "files", "dc1", "--out", dir}, extra...)...)
	}
	t.Run("ok/rewrite own files", func(t *testing.T) {
		dir := t.TempDir()
		for i := 0; i < 2; i++ {
			if r := files(dir); r.code != 0 {
				t.Fatalf("run %d: got %+v, want exit 0", i, r)
			}
		}
		fi, err := os.Stat(filepath.Join(dir, ".vpnkeys-files"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("manifest: got %v %v, want mode 0600", fi, err)
		}
	})
	t.Run("fail/foreign file", func(t *testing.T) {
		dir := t.TempDir()
		mine := []byte("# hand-written\nport 1194\n")
		os.WriteFile(filepath.Join(dir, "server.conf"), mine, 0o640)
		r := files(dir)
		if r.code != 2 || !strings.Contains(r.err, "server.conf") || !strings.Contains(r.err, "--force") {
			t.Fatalf("got %+v, want exit 2 naming server.conf and --force", r)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "server.conf")); string(b) != string(mine) {
			t.Fatalf("server.conf: got %q, want it untouched", b)
		}
		if _, err := os.Stat(filepath.Join(dir, "ca.crt")); !os.IsNotExist(err) {
			t.Fatalf("ca.crt written by a refused run: %v", err)
		}
	})
	t.Run("fail/edited since", func(t *testing.T) {
		dir := t.TempDir()
		if r := files(dir); r.code != 0 {
			t.Fatalf("first: %+v", r)
		}
		p := filepath.Join(dir, "server.conf")
		b, _ := os.ReadFile(p)
		edited := append(b, []byte("push \"route 10.1.0.0 255.255.0.0\"\n")...)
		os.WriteFile(p, edited, 0o640)
		os.Chmod(p, 0o640)
		if r := files(dir); r.code != 2 || !strings.Contains(r.err, "server.conf") {
			t.Fatalf("got %+v, want exit 2 naming server.conf", r)
		}
		r := files(dir, "--force")
		if r.code != 0 || !strings.Contains(r.out, "server.conf.bak-") {
			t.Fatalf("--force: got %+v, want exit 0 naming the backup", r)
		}
		baks, _ := filepath.Glob(p + ".bak-*")
		if len(baks) != 1 {
			t.Fatalf("backups: got %v, want one", baks)
		}
		fi, _ := os.Stat(baks[0])
		if got, _ := os.ReadFile(baks[0]); string(got) != string(edited) || fi.Mode().Perm() != 0o640 {
			t.Fatalf("backup: got mode %v, want the edited file with mode 0640", fi.Mode())
		}
		if got, _ := os.ReadFile(p); string(got) != string(b) {
			t.Fatal("server.conf: want vpnkeys' version after --force")
		}
	})
}
