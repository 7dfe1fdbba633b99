package easyrsa

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDetectTLSMode: tls-auth is found in client profiles, gen.sh's
// distribution files and server configs, not in comments; ta.key beside
// them is reported.
func TestDetectTLSMode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		want   string
		reason string
	}{
		{"ok/gen.sh client config", map[string]string{"mycompany_vpn.ovpn": "client\nremote vpn 1194\ntls-auth ta.key 1\n", "ta.key": "k"}, ModeTLSAuth, "mycompany_vpn.ovpn line 3: tls-auth ta.key 1"},
		{"ok/key-direction", map[string]string{"server.conf": "client\nkey-direction 1\n<tls-auth>\n</tls-auth>\n"}, ModeTLSAuth, "server.conf line 2: key-direction 1"},
		{"ok/server config", map[string]string{"server.conf": "port 1194\n  tls-auth /etc/openvpn/ta.key 0\n"}, ModeTLSAuth, "line 2"},
		{"ok/tls-crypt", map[string]string{"client.ovpn": "client\ntls-crypt ta.key\n# tls-auth ta.key 1\n;key-direction 1\n"}, ModeTLSCrypt, "none of the 1 OpenVPN configurations"},
		{"ok/no configs", map[string]string{"readme_vpn_win.txt": "tls-auth"}, ModeTLSCrypt, "no OpenVPN configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			d, err := DetectTLSMode([]string{dir})
			if err != nil || d.Mode != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got %+v %v, want %s because %q", d, err, tc.want, tc.reason)
			}
			if _, ok := tc.files["ta.key"]; ok != (d.TAKey == filepath.Join(dir, "ta.key")) {
				t.Fatalf("TAKey: got %q, want ta.key found: %v", d.TAKey, ok)
			}
		})
	}
	t.Run("fail/missing folder", func(t *testing.T) {
		if _, err := DetectTLSMode([]string{filepath.Join(t.TempDir(), "nope")}); err == nil {
			t.Fatal("got nil, want an error")
		}
	})
}
