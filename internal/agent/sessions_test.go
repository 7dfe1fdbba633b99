package agent

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/mgmt"
)

func TestKillReason(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	revoked := map[string]bool{"0A1B": true}
	refused := map[string]bool{"zack": true}
	ends := []agentwire.End{{User: "bob", Before: t0}}
	for _, tc := range []struct {
		name string
		s    agentwire.Session
		want string
	}{
		{"ok/revoked serial", agentwire.Session{User: "alice", Serial: "0A1B", Since: t0}, msgRevoked},
		{"ok/renewed serial stays", agentwire.Session{User: "alice", Serial: "0A1C", Since: t0}, ""},
		{"ok/unknown serial of a refused user", agentwire.Session{User: "zack", Since: t0}, msgRevoked},
		{"ok/known good serial of a refused user stays", agentwire.Session{User: "zack", Serial: "0A1C", Since: t0}, ""},
		{"ok/unknown serial of another user stays", agentwire.Session{User: "carol", Since: t0}, ""},
		{"ok/end: session at Before", agentwire.Session{User: "bob", Serial: "01", Since: t0}, msgDisconnected},
		{"ok/end: earlier session", agentwire.Session{User: "bob", Serial: "01", Since: t0.Add(-time.Hour)}, msgDisconnected},
		{"ok/end: later login stays", agentwire.Session{User: "bob", Serial: "01", Since: t0.Add(time.Second)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := killReason(tc.s, revoked, refused, ends); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSerialForms(t *testing.T) {
	for _, s := range []string{"0A1B", "a1b", "0a:1b", "00:0A:1B", " 0a1b "} {
		n, err := parseSerial(s)
		if err != nil || serialKey(n) != "0A1B" {
			t.Errorf("%q: got %v, %v, want 0A1B", s, n, err)
		}
	}
	for _, s := range []string{"", "zz", "-1", "0x1"} {
		if _, err := parseSerial(s); err == nil {
			t.Errorf("%q: nil error", s)
		}
	}
}

// TestToSession: the serial comes from the hook's file for the session's
// real address, unless that file names another common name (stale).
func TestToSession(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "127.0.0.1,40000"), []byte("0a:1b alice\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "127.0.0.1,40001"), []byte("0a:1c mallory\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "2001:db8::1,40002"), []byte("ff bob\n"), 0o600)
	for _, tc := range []struct {
		cn, addr, want string
	}{
		{"alice", "127.0.0.1:40000", "0A1B"},
		{"alice", "127.0.0.1:40001", ""},
		{"alice", "127.0.0.1:40009", ""},
		{"bob", "[2001:db8::1]:40002", "FF"},
	} {
		ms := mgmt.Session{CommonName: tc.cn, RealAddress: tc.addr, RealAddr: netip.MustParseAddrPort(tc.addr)}
		if got := toSession(ms, dir).Serial; got != tc.want {
			t.Errorf("%s at %s: got serial %q, want %q", tc.cn, tc.addr, got, tc.want)
		}
	}
}

func TestReadServerConf(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "server.conf"), []byte("# management /x unix\nuser nobody\ngroup nogroup\nmanagement run/dc1.sock unix pw\n"), 0o600)
	c := readServerConf(dir)
	want := serverConf{socket: filepath.Join(dir, "run/dc1.sock"), passFile: filepath.Join(dir, "pw"), user: "nobody", group: "nogroup"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if sessionDir(c.socket) != filepath.Join(dir, "run/dc1.sessions") {
		t.Errorf("session folder: got %s", sessionDir(c.socket))
	}
}
