package ovpn

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyHook runs tls-crypt-v2-verify.sh as OpenVPN does (no PATH,
// metadata_type and metadata_file set, from the server's folder) and
// checks that it admits only a well-formed serial not in revoked-serials.
func TestVerifyHook(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, TLSCryptV2VerifyName)
	if err := os.WriteFile(hook, VerifyHook(), 0o755); err != nil {
		t.Fatal(err)
	}
	revoked := RevokedSerials([]string{"0BAD", "01AB", "0BAD"})
	if string(revoked) != "01AB\n0BAD\n" {
		t.Fatalf("RevokedSerials: got %q, want sorted, unique lines", revoked)
	}
	list := filepath.Join(dir, RevokedSerialsName)
	if err := os.WriteFile(list, revoked, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, typ, data string
		noList, admit   bool
	}{
		{name: "ok/serial not revoked", typ: "0", data: "serial=0ABC", admit: true},
		{name: "ok/serial with newline", typ: "0", data: "serial=0ABC\n", admit: true},
		{name: "fail/revoked serial", typ: "0", data: "serial=0BAD"},
		{name: "ok/a prefix of a revoked serial is another serial", typ: "0", data: "serial=0B", admit: true},
		{name: "fail/lower-case serial", typ: "0", data: "serial=0bad"},
		{name: "fail/no serial", typ: "0", data: "serial="},
		{name: "fail/garbled serial", typ: "0", data: "serial=0B;AD"},
		{name: "fail/other metadata", typ: "0", data: "user=alice"},
		{name: "fail/timestamp key", typ: "1", data: "\x00\x00\x00\x00\x65\x00\x00\x00"},
		{name: "fail/too long", typ: "0", data: "serial=" + strings.Repeat("A", 42)},
		{name: "fail/no metadata file", typ: "0"},
		{name: "fail/no revoked-serials", typ: "0", data: "serial=0ABC", noList: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"metadata_type=" + tc.typ}
			if tc.data != "" {
				m := filepath.Join(t.TempDir(), "meta")
				if err := os.WriteFile(m, []byte(tc.data), 0o600); err != nil {
					t.Fatal(err)
				}
				env = append(env, "metadata_file="+m)
			}
			if tc.noList {
				os.Rename(list, list+".off")
				defer os.Rename(list+".off", list)
			}
			cmd := exec.Command("./" + TLSCryptV2VerifyName)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			if got := err == nil; got != tc.admit {
				t.Fatalf("admitted: got %v (%v, %q), want %v", got, err, out, tc.admit)
			}
		})
	}
}

// TestServerConfigTLSMode: each mode puts its own control-channel lines
// into server.conf, and only those.
func TestServerConfigTLSMode(t *testing.T) {
	for _, tc := range []struct {
		mode     TLSMode
		want     []string
		wantNone []string
	}{
		{"", []string{"\ntls-crypt ta.key\n"}, []string{"tls-auth", "tls-crypt-v2"}},
		{TLSCrypt, []string{"\ntls-crypt ta.key\n"}, []string{"tls-auth", "tls-crypt-v2"}},
		{TLSAuth, []string{"\ntls-auth ta.key 0\n"}, []string{"tls-crypt ", "tls-crypt-v2"}},
		{TLSCryptV2, []string{"\ntls-crypt-v2 tls-crypt-v2-server.key\n", "\nscript-security 2\n", "\ntls-crypt-v2-verify ./tls-crypt-v2-verify.sh\n"}, []string{"ta.key", "tls-auth"}},
	} {
		t.Run("ok/"+string(tc.mode.OrDefault()), func(t *testing.T) {
			b, err := RenderServerConfig("", ServerData{Name: "dc1", Remote: Remote{Host: "h", Port: 1194, Proto: "udp"}, Network: "10.8.0.0", Netmask: "255.255.255.0", TLSMode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Fatalf("server.conf lacks %q:\n%s", w, b)
				}
			}
			for _, w := range tc.wantNone {
				if strings.Contains(string(b), w) {
					t.Fatalf("server.conf holds %q:\n%s", w, b)
				}
			}
		})
	}
	if _, err := ParseTLSMode("tls-magic"); err == nil || !strings.Contains(err.Error(), `"tls-magic"`) {
		t.Fatalf("ParseTLSMode(tls-magic): got %v, want an error naming it", err)
	}
}
