package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBundlesRefresh(t *testing.T) {
	data, pf := setup(t)
	dir := filepath.Join(data, "bundles")
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	profile := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "alice", "alice.ovpn"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("ok/refresh", func(t *testing.T) {
		r := run(t, nil, "--data", data, "--passphrase-file", pf, "bundles", "refresh")
		if want := "re-rendered 1 bundles in " + dir + "\n"; r.code != 0 || r.out != want {
			t.Fatalf("got %d %q, want exit 0 and %q", r.code, r.out, want)
		}
	})
	t.Run("ok/server-set-tls-mode", func(t *testing.T) {
		r := run(t, nil, "--data", data, "--passphrase-file", pf, "server", "set", "dc1", "--tls-mode", "tls-auth")
		if r.code != 0 || !strings.Contains(r.out, "re-rendered 1 bundles in "+dir+"\n") || !strings.Contains(r.out, "vpnkeys send USER") {
			t.Fatalf("got %+v, want exit 0, the refresh line and how to hand out new profiles", r)
		}
		if p := profile(); !strings.Contains(p, "<tls-auth>") {
			t.Fatalf("alice.ovpn after the switch: got\n%s\nwant tls-auth", p)
		}
	})
	t.Run("ok/server-set-without-passphrase", func(t *testing.T) {
		r := run(t, nil, "--data", data, "server", "set", "dc1", "--tls-mode", "tls-crypt")
		if r.code != 0 || !strings.Contains(r.out, "1 bundles in "+dir+" still hold the previous profiles: re-render them with 'vpnkeys bundles refresh'") {
			t.Fatalf("got %+v, want exit 0 and how to refresh", r)
		}
		if p := profile(); !strings.Contains(p, "<tls-auth>") {
			t.Fatal("alice.ovpn changed without the CA passphrase")
		}
		if r := run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "bundles", "refresh"); r.code != 0 {
			t.Fatalf("bundles refresh: %+v", r)
		}
		if p := profile(); !strings.Contains(p, "<tls-crypt>") {
			t.Fatalf("alice.ovpn after bundles refresh: got\n%s\nwant tls-crypt", p)
		}
	})
	for _, args := range [][]string{{"bundles", "refersh"}, {"bundles", "refresh", "alice"}} {
		t.Run("fail/"+strings.Join(args, "-"), func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data, "--passphrase-file", pf}, args...)...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Fatalf("got %d %q, want exit 2 and one line", r.code, r.err)
			}
		})
	}
}
