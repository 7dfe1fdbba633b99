package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstUseRefusals: a refused first run leaves no data folder, and a
// later --remote is never ignored in silence.
func TestFirstUseRefusals(t *testing.T) {
	pe := map[string]string{EnvPassphrase: pass}
	t.Run("fail/add without remote changes nothing", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		r := run(t, pe, "--data", data, "add", "alice")
		if r.code != 2 || !strings.Contains(r.err, "--remote HOST:PORT") {
			t.Fatalf("got %+v, want exit 2 asking for --remote", r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	t.Run("fail/add with a bad remote changes nothing", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		if r := run(t, pe, "--data", data, "add", "alice", "--remote", "h:0"); r.code != 2 {
			t.Fatalf("got %+v, want exit 2", r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	t.Run("fail/init without passphrase leaves no folder", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		r := run(t, nil, "--data", data, "init")
		if r.code != 2 || !strings.Contains(r.err, "no CA passphrase") {
			t.Fatalf("got %+v, want exit 2 about the passphrase", r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	t.Run("fail/add without passphrase leaves no folder", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		if r := run(t, nil, "--data", data, "add", "alice", "--remote", "vpn.example.com"); r.code != 2 {
			t.Fatalf("got %+v, want exit 2", r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	t.Run("later runs", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		if r := run(t, pe, "--data", data, "add", "alice", "--remote", "vpn.example.com:1194"); r.code != 0 {
			t.Fatalf("first add: %+v", r)
		}
		// The same remote again (re-running the first command) is fine.
		if r := run(t, pe, "--data", data, "add", "bob", "--remote", "vpn.example.com:1194/udp"); r.code != 0 {
			t.Fatalf("same remote: got %+v, want exit 0", r)
		}
		r := run(t, pe, "--data", data, "add", "carol", "--remote", "vpn2.example.com:443/tcp")
		if r.code != 2 || !strings.Contains(r.err, "server set vpn --remote vpn2.example.com:443/tcp") {
			t.Fatalf("other remote: got %+v, want exit 2 pointing at server set", r)
		}
		r = run(t, nil, "--data", data, "list")
		if strings.Contains(r.out, "carol") {
			t.Fatalf("carol was added although refused: %s", r.out)
		}
	})
}
