package bundle

import (
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// TestProfilesByMode: servers of one mode share the profile; a mix gives
// USER.ovpn for the first server's mode and USER-MODE.ovpn for the others,
// each with its mode's key block and only its servers.
func TestProfilesByMode(t *testing.T) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	srv := func(name string, m ovpn.TLSMode) Server {
		return Server{Name: name, Host: name + ".example.com", Port: 1194, Proto: "udp", TLSMode: m}
	}
	for _, tc := range []struct {
		name    string
		servers []Server
		want    map[string][]string // profile -> what it holds
		notWant map[string][]string
	}{
		{"ok/one mode, one profile", []Server{srv("dc1", ""), srv("dc2", ovpn.TLSCrypt)},
			map[string][]string{"alice.ovpn": {"remote dc1.example.com", "remote dc2.example.com", "<tls-crypt>\nTA\n</tls-crypt>"}},
			map[string][]string{"alice.ovpn": {"tls-auth", "key-direction"}}},
		{"ok/tls-auth only", []Server{srv("dc1", ovpn.TLSAuth)},
			map[string][]string{"alice.ovpn": {"key-direction 1\n<tls-auth>\nTA\n</tls-auth>"}},
			map[string][]string{"alice.ovpn": {"<tls-crypt"}}},
		{"ok/mixed", []Server{srv("dc1", ovpn.TLSCryptV2), srv("dc2", ovpn.TLSAuth), srv("dc3", ovpn.TLSCryptV2)},
			map[string][]string{
				"alice.ovpn":          {"remote dc1.example.com", "remote dc3.example.com", "<tls-crypt-v2>\nV2\n</tls-crypt-v2>"},
				"alice-tls-auth.ovpn": {"remote dc2.example.com", "<tls-auth>", "CERT-PEM"},
			},
			map[string][]string{"alice.ovpn": {"dc2", "<tls-auth>", "TA\n"}, "alice-tls-auth.ovpn": {"dc1", "dc3", "V2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := data()
			d.Servers, d.TLSCryptV2 = tc.servers, "V2\n"
			files, err := tmpl.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			got := byName(files)
			n := 0
			for _, f := range files {
				if strings.HasSuffix(f.Name, ".ovpn") {
					n++
				}
			}
			if n != len(tc.want) {
				t.Fatalf("got %d profiles, want %d", n, len(tc.want))
			}
			for p, subs := range tc.want {
				for _, s := range subs {
					if !strings.Contains(string(got[p].Data), s) {
						t.Fatalf("%s lacks %q:\n%s", p, s, got[p].Data)
					}
				}
			}
			for p, subs := range tc.notWant {
				for _, s := range subs {
					if strings.Contains(string(got[p].Data), s) {
						t.Fatalf("%s holds %q:\n%s", p, s, got[p].Data)
					}
				}
			}
		})
	}
}
