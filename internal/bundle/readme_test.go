package bundle

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// TestReadmes renders every built-in readme for every OS, with and without
// the optional fields, and checks each says what the user needs.
func TestReadmes(t *testing.T) {
	tm, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	markers := map[account.OS]string{account.Windows: "OpenVPN GUI", account.MacOS: "Tunnelblick", account.Linux: "nmcli"}
	servers := []Server{{"dc1", "vpn1.example.com", 1194, "udp", "vpn1.example.com:1194/udp"}, {"dc2", "vpn2.example.com", 443, "tcp", "vpn2.example.com:443/tcp"}, {"dc3", "203.0.113.9", 1194, "udp", "203.0.113.9:1194/udp"}}
	for _, lang := range account.Langs {
		if _, ok := tm.readmes[string(lang)]; !ok {
			t.Errorf("no built-in readme for %s", lang)
			continue
		}
		for _, os := range account.OSes {
			for _, full := range []bool{false, true} {
				d := Data{User: "alice", OS: string(os), Lang: string(lang), Profile: "alice.ovpn", Expires: "2028-02-25", Servers: servers[:1]}
				if full {
					d.FullName, d.Contact, d.Company, d.Servers = "Alice Martin", "it@example.com", "Example Ltd", servers
				}
				name := string(lang) + "/" + string(os)
				if full {
					name += "/full"
				}
				t.Run(name, func(t *testing.T) {
					b, err := tm.Readme(d)
					if err != nil {
						t.Fatal(err)
					}
					s := string(b)
					want := []string{"alice.ovpn", "alice", "2028-02-25", markers[os]}
					for _, srv := range d.Servers {
						want = append(want, srv.Remote)
					}
					if full {
						want = append(want, "Alice Martin", "it@example.com", "Example Ltd")
					}
					for _, w := range want {
						if !strings.Contains(s, w) {
							t.Errorf("readme lacks %q", w)
						}
					}
					for other, m := range markers {
						if other != os && strings.Contains(s, m) && !(os == account.Windows && m == "OpenVPN GUI") {
							t.Errorf("readme for %s mentions %q (for %s)", os, m, other)
						}
					}
					if strings.Contains(s, "<no value>") || strings.Contains(s, Token) || !utf8.ValidString(s) {
						t.Error("readme has an unfilled value, change_me, or bad UTF-8")
					}
					for i, line := range strings.Split(s, "\n") {
						if utf8.RuneCountInString(line) > 100 {
							t.Errorf("line %d has %d runes, want at most 100", i+1, utf8.RuneCountInString(line))
						}
					}
				})
			}
		}
	}
}
