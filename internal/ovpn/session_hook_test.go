package ovpn

import (
	"errors"
	"strings"
	"testing"
)

func TestValidRunDir(t *testing.T) {
	for _, d := range []string{DefaultRunDir, "/run/vpnkeys-agent.2", "/tmp/x_y"} {
		if err := ValidRunDir(d); err != nil {
			t.Errorf("ok/%s: got %v, want nil", d, err)
		}
	}
	for _, d := range []string{"", "run/x", "/run/a b", "/run/it's", "/run/x/", "/run/../etc", "/run/$HOME", "/run/a\nmanagement 0.0.0.0 1", `/run/"x"`} {
		if err := ValidRunDir(d); !errors.Is(err, ErrRunDir) {
			t.Errorf("fail/%q: got %v, want ErrRunDir", d, err)
		}
	}
}

// TestSessionHook: the hook is the design's text with the session folder
// filled in, and a socket path too long for a unix socket is refused.
func TestSessionHook(t *testing.T) {
	b, err := SessionHook("/run/vpnkeys-agent", "dc1")
	if err != nil {
		t.Fatal(err)
	}
	want := `#!/bin/sh
# Written by vpnkeys: tells the vpnkeys agent which certificate each session uses,
# so a renewal ends only the old certificate's session. Never fails a login.
d='/run/vpnkeys-agent/dc1.sessions'
f="$d/${trusted_ip:-$trusted_ip6},$trusted_port"
case "$script_type" in
client-connect) printf '%s %s\n' "$tls_serial_hex_0" "$common_name" >"$f.$$" 2>/dev/null && mv -f "$f.$$" "$f" 2>/dev/null ;;
client-disconnect) rm -f "$f" 2>/dev/null ;;
esac
exit 0
`
	if string(b) != want {
		t.Fatalf("hook: got\n%s\nwant\n%s", b, want)
	}
	long := "/run/" + strings.Repeat("d", 100)
	if _, err := SessionHook(long, "dc1"); !errors.Is(err, ErrRunDir) {
		t.Fatalf("fail/long: got %v, want ErrRunDir", err)
	}
	d := ServerData{Name: "dc1", Remote: Remote{"vpn.example.com", 1194, "udp"}, Network: "10.8.0.0", Netmask: "255.255.255.0", RunDir: long}
	if _, err := RenderServerConfig("", d); !errors.Is(err, ErrRunDir) {
		t.Fatalf("fail/long server.conf: got %v, want ErrRunDir", err)
	}
}

func TestServerConfigManagement(t *testing.T) {
	d := ServerData{Name: "dc1", Remote: Remote{"vpn.example.com", 1194, "udp"}, Network: "10.8.0.0", Netmask: "255.255.255.0"}
	b, err := RenderServerConfig("", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "management") {
		t.Fatalf("ok/no run folder: got a management line:\n%s", b)
	}
	d.RunDir = DefaultRunDir
	if b, err = RenderServerConfig("", d); err != nil {
		t.Fatal(err)
	}
	want := `management /run/vpnkeys-agent/dc1.sock unix
management-client-user root
script-security 2
client-connect ./vpnkeys-session.sh
client-disconnect ./vpnkeys-session.sh
remote-cert-tls client
`
	if !strings.Contains(string(b), want) {
		t.Fatalf("ok/run folder: server.conf lacks\n%s\ngot\n%s", want, b)
	}
}
