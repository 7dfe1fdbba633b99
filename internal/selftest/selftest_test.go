package selftest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	const (
		initial = "2026-11-30 06:00:00 TLS: Initial packet from [AF_INET]127.0.0.1:1194, sid=0a0b\n"
		tlsErr  = "2026-11-30 06:00:05 TLS Error: TLS handshake failed\n"
	)
	tests := []struct {
		name  string
		log   string
		final bool
		want  OutcomeKind
		ok    bool
		says  string
	}{
		{"ok/connected", initial + "2026-11-30 06:00:01 Initialization Sequence Completed\n", false, Connected, true, ready},
		{"ok/auth-failed", "AUTH: Received control message: AUTH_FAILED\n", false, Refused, true, "AUTH_FAILED"},
		{"ok/refused-after-answer", initial + tlsErr, false, Refused, true, "TLS Error: TLS handshake failed"},
		{"ok/answered-undecided", initial, false, 0, false, ""},
		{"ok/answered-then-time-up", initial, true, Refused, true, "did not complete"},
		{"fail/no-answer-undecided", "read UDP: Connection refused (code=111)\n", false, 0, false, ""},
		{"fail/no-answer", "2026-11-30 06:00:00 read UDP: Connection refused (code=111)\n" + tlsErr, true, NoAnswer, true, "Connection refused"},
		{"fail/silence", "", true, NoAnswer, true, "no answer"},
		{"fail/bad-profile", "Options error: Unrecognized option\n", false, Failed, true, "Options error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := classify(tt.log, tt.final)
			if ok != tt.ok || (ok && (o.Kind != tt.want || !strings.Contains(o.Detail, tt.says))) {
				t.Errorf("got %v %v %q, want %v %v saying %q", ok, o.Kind, o.Detail, tt.ok, tt.want, tt.says)
			}
			if strings.HasPrefix(o.Detail, "2026") {
				t.Errorf("got detail %q, want it without the time stamp", o.Detail)
			}
		})
	}
}

func TestWithRemote(t *testing.T) {
	profile := "client\nremote a.example.com 1194 udp\nremote b.example.com 443 tcp\n<ca>\nremote inside-a-block\n</ca>\nverb 3"
	got := string(withRemote([]byte(profile), Remote{Host: "127.0.0.1", Port: 11960, Proto: "udp"}))
	want := "client\nremote 127.0.0.1 11960 udp\n<ca>\nremote inside-a-block\n</ca>\nverb 3"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(withRemote([]byte(profile), Remote{})); got != profile {
		t.Errorf("got %q, want the profile unchanged without a remote", got)
	}
}

func TestCRLCheck(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name    string
		held    HeldCRL
		current int64
		days    int
		ok      bool
		says    string
	}{
		{"ok/newest", HeldCRL{Known: true, Number: 7, NextUpdate: now.Add(20 * day)}, 7, 30, true, "#7 is the newest"},
		{"ok/short-crl-days", HeldCRL{Known: true, Number: 7, NextUpdate: now.Add(2 * day)}, 7, 3, true, "newest"},
		{"ok/no-agent", HeldCRL{}, 7, 30, true, "no agent"},
		{"fail/stale", HeldCRL{Known: true, Number: 6, NextUpdate: now.Add(20 * day), Source: "crl.pem"}, 7, 30, false, "stale CRL: the server holds #6 (crl.pem), the newest is #7"},
		{"fail/near-next-update", HeldCRL{Known: true, Number: 7, NextUpdate: now.Add(2 * day)}, 7, 30, false, "lapses"},
		{"fail/lapsed", HeldCRL{Known: true, Number: 7, NextUpdate: now.Add(-day)}, 7, 30, false, "lapses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CRLCheck(tt.held, tt.current, tt.days, now)
			if c.Name != CheckCRL || c.OK != tt.ok || !strings.Contains(c.Detail, tt.says) {
				t.Errorf("got %+v, want ok=%v saying %q", c, tt.ok, tt.says)
			}
		})
	}
}

// A client that cannot run fails both checks, saying so, and leaves no
// temporary folder behind.
func TestRunWithoutOpenVPN(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := Probe{OpenVPN: filepath.Join(tmp, "no-such-openvpn"), Valid: []byte("client\n"), Revoked: []byte("client\n"), Timeout: time.Second}
	checks := p.Run(context.Background())
	if len(checks) != 2 || checks[0].Name != CheckTunnel || checks[1].Name != CheckRevoked {
		t.Fatalf("got %+v, want the tunnel and revoked checks", checks)
	}
	for _, c := range checks {
		if c.OK || !strings.Contains(c.Detail, "did not run") {
			t.Errorf("got %+v, want a failure saying the client did not run", c)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("got %d entries left in the temporary folder, want 0", len(left))
	}
}
