package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
)

// TestImportTLSMode: import easyrsa detects tls-auth in gen.sh's
// distribution folder, imports its ta.key and says so; servers added
// afterwards are tls-auth; a bad --tls-mode is exit 2 with nothing
// imported, and --tls-mode overrides the detection.
func TestImportTLSMode(t *testing.T) {
	er := easyrsatest.New(t, "p256", "")
	er.Run(t, "build-client-full", "alice", "nopass")
	distr := t.TempDir()
	os.WriteFile(filepath.Join(distr, "mycompany_vpn.ovpn"), []byte("client\nremote vpn.example.com 1194\nca ca.crt\ncert change_me.crt\nkey change_me.key\ntls-auth ta.key 1\n"), 0o644)
	ta := "-----BEGIN OpenVPN Static key V1-----\n" + strings.Repeat(strings.Repeat("ab", 16)+"\n", 16) + "-----END OpenVPN Static key V1-----\n"
	os.WriteFile(filepath.Join(distr, "ta.key"), []byte(ta), 0o600)
	data := filepath.Join(t.TempDir(), "data")

	for _, args := range [][]string{
		{"--tls-mode", "tls-magic"},
		{"--openvpn-dir", filepath.Join(distr, "missing")},
	} {
		t.Run("fail/"+args[0], func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data, "import", "easyrsa", er.Dir}, args...)...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") != 0 || !strings.Contains(r.err, args[0]) {
				t.Fatalf("got %+v, want exit 2 and one line naming %s", r, args[0])
			}
			if _, err := os.Stat(data); err == nil {
				t.Fatalf("a refused import left %s behind", data)
			}
		})
	}
	r := run(t, nil, "--data", data, "import", "easyrsa", er.Dir, "--openvpn-dir", distr)
	if r.code != 0 || !strings.Contains(r.out, "servers registered from now on get tls-auth (detected: "+filepath.Join(distr, "mycompany_vpn.ovpn")+" line 6: tls-auth ta.key 1)") ||
		!strings.Contains(r.out, "static key: "+filepath.Join(distr, "ta.key")+" imported") {
		t.Fatalf("import: got %+v, want tls-auth detected and ta.key imported", r)
	}
	if r := run(t, nil, "--data", data, "server", "add", "dc1", "--remote", "vpn.example.com:1194"); r.code != 0 || !strings.Contains(r.out, "control channel tls-auth") {
		t.Fatalf("server add after a tls-auth import: got %+v, want tls-auth", r)
	}
	out := t.TempDir()
	if r := run(t, nil, "--data", data, "server", "files", "dc1", "--out", out); r.code != 0 {
		t.Fatalf("server files: %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "ta.key")); !strings.Contains(string(got), ta) {
		t.Fatalf("server ta.key: got %q, want the imported one", got)
	}

	data2 := filepath.Join(t.TempDir(), "data")
	r = run(t, nil, "--data", data2, "import", "easyrsa", er.Dir, "--openvpn-dir", distr, "--tls-mode", "tls-crypt-v2")
	if r.code != 0 || !strings.Contains(r.out, "get tls-crypt-v2 (chosen with --tls-mode)") {
		t.Fatalf("import --tls-mode: got %+v", r)
	}
}
