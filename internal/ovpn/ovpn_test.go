package ovpn

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

func TestStaticKey(t *testing.T) {
	k, err := NewStaticKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseStaticKey(FormatStaticKey(k))
	if err != nil || !bytes.Equal(back, k) {
		t.Fatalf("round trip: got %v", err)
	}
	// A key written by the real openvpn parses.
	openvpn := testenv.OpenVPN(t)
	p := filepath.Join(t.TempDir(), "ta.key")
	if out, err := exec.Command(openvpn, "--genkey", "tls-crypt", p).CombinedOutput(); err != nil {
		t.Fatalf("openvpn --genkey: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(p)
	if k, err := ParseStaticKey(b); err != nil || len(k) != StaticKeySize {
		t.Fatalf("parsing openvpn's key: %v", err)
	}
	for _, bad := range []string{"", "-----BEGIN OpenVPN Static key V1-----\nzz\n-----END OpenVPN Static key V1-----\n",
		"-----BEGIN OpenVPN Static key V1-----\n00\n-----END OpenVPN Static key V1-----\n"} {
		if _, err := ParseStaticKey([]byte(bad)); !errors.Is(err, ErrStaticKey) {
			t.Errorf("ParseStaticKey(%q): got %v, want ErrStaticKey", bad, err)
		}
	}
}

func FuzzParseStaticKey(f *testing.F) {
	k, _ := NewStaticKey()
	f.Add(FormatStaticKey(k))
	f.Add([]byte("-----BEGIN OpenVPN Static key V1-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParseStaticKey(b); err == nil && len(k) != StaticKeySize {
			t.Fatalf("accepted a key of %d bytes", len(k))
		}
	})
}

func TestParseRemote(t *testing.T) {
	ok := map[string]Remote{
		"vpn.example.com":          {"vpn.example.com", 1194, "udp"},
		"vpn.example.com:443/tcp":  {"vpn.example.com", 443, "tcp"},
		"203.0.113.7:1194":         {"203.0.113.7", 1194, "udp"},
		"[2001:db8::1]:1195/udp":   {"2001:db8::1", 1195, "udp"},
		"vpn-2.example.com:80/TCP": {"vpn-2.example.com", 80, "tcp"},
	}
	for in, want := range ok {
		if got, err := ParseRemote(in); err != nil || got != want {
			t.Errorf("ok/%s: got %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", ":1194", "h:0", "h:70000", "h:1194/sctp", "host name:1", "a;b:1", "h\n:1", `"h":1`, "-h:1"} {
		if _, err := ParseRemote(in); !errors.Is(err, ErrRemote) {
			t.Errorf("fail/%q: got %v, want ErrRemote", in, err)
		}
	}
}

func TestRenderServerConfig(t *testing.T) {
	d := ServerData{Name: "dc1", Remote: Remote{"vpn.example.com", 1194, "udp"}, Network: "10.8.0.0", Netmask: "255.255.255.0"}
	b, err := RenderServerConfig("", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"port 1194\n", "proto udp\n", "dev vpn-dc1\n", "dev-type tun\n", "client-config-dir ccd\n", "ccd-exclusive\n", "topology subnet\n", "server 10.8.0.0 255.255.255.0\n",
		"ca ca.crt\n", "cert server.crt\n", "key server.key\n", "dh none\n", "tls-crypt ta.key\n", "crl-verify crl.pem\n",
		"data-ciphers ", "keepalive ", "user nobody\n", "group nogroup\n", "persist-key\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("server.conf lacks %q", want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ServerTemplateName), []byte("port {{.Remote.Port}} # custom\n"), 0o600)
	if b, err := RenderServerConfig(dir, d); err != nil || string(b) != "port 1194 # custom\n" {
		t.Fatalf("override: got %q %v", b, err)
	}
	if _, _, err := ParseSubnet("10.8.0.0/33"); err == nil {
		t.Error("ParseSubnet(/33): got nil error")
	}
}

func TestDeviceName(t *testing.T) {
	long := DeviceName("datacenter-frankfurt-2")
	for _, c := range []struct{ name, want string }{
		{"dc1", "vpn-dc1"},
		{"paris-main1", "vpn-paris-main1"},
		{"datacenter-frankfurt-2", long},
	} {
		t.Run("ok/"+c.name, func(t *testing.T) {
			got := DeviceName(c.name)
			if got != c.want || len(got) > 15 {
				t.Fatalf("got %q, want %q (at most 15 bytes)", got, c.want)
			}
		})
	}
	if long == DeviceName("datacenter-frankfurt-3") || len(long) != 15 {
		t.Fatalf("long names: got %q and %q, want distinct 15-byte names", long, DeviceName("datacenter-frankfurt-3"))
	}
}
