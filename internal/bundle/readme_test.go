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
	markers := map[account.OS]string{account.Windows: "OpenVPN GUI", account.MacOS: "Tunnelblick", account.Linux: "nmcli",
		account.Android: "Google Play", account.IOS: "App Store"}
	servers := []Server{{"dc1", "vpn1.example.com", 1194, "udp", "vpn1.example.com:1194/udp", ""}, {"dc2", "vpn2.example.com", 443, "tcp", "vpn2.example.com:443/tcp", ""}, {"dc3", "203.0.113.9", 1194, "udp", "203.0.113.9:1194/udp", ""}}
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
					lines := strings.Split(s, "\n")
					for i, line := range lines {
						if utf8.RuneCountInString(line) > 100 {
							t.Errorf("line %d has %d runes, want at most 100", i+1, utf8.RuneCountInString(line))
						}
						// The link page joins a list item's lines, but not
						// after a colon: a break there splits the sentence.
						if i > 0 && strings.HasSuffix(lines[i-1], ":") && strings.HasPrefix(line, "   ") && !strings.HasPrefix(line, "    ") {
							t.Errorf("line %d continues a list item after a colon, want the colon mid-line: %q", i+1, lines[i-1])
						}
					}
				})
			}
		}
	}
}

// TestMobileReadmes checks that an Android and an iOS user get the OpenVPN
// Connect instructions in their own language (a phrase only that
// language's section has), and are told the split files stay off the phone.
func TestMobileReadmes(t *testing.T) {
	tm, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	want := map[account.Lang]map[account.OS][]string{
		"en": {account.Android: {`Install "OpenVPN Connect" from Google Play.`, "leave them off\nthe phone"},
			account.IOS: {`Install "OpenVPN Connect" from the App Store.`, "Camera app", "leave them off\nthe phone"}},
		"es": {account.Android: {`Instale "OpenVPN Connect" desde Google Play.`, "no hace\nfalta copiarlos al teléfono"},
			account.IOS: {`Instale "OpenVPN Connect" desde el App Store.`, "la app Cámara", "no hace\nfalta copiarlos al teléfono"}},
		"fr": {account.Android: {"Installez « OpenVPN Connect » depuis Google Play.", "inutile\ndonc de les copier sur le téléphone"},
			account.IOS: {"Installez « OpenVPN Connect » depuis l'App Store.", "Appareil photo", "inutile\ndonc de les copier sur le téléphone"}},
		"de": {account.Android: {"Installieren Sie „OpenVPN Connect“ aus Google Play.", "gehören also nicht aufs Telefon"},
			account.IOS: {"Installieren Sie „OpenVPN Connect“ aus dem App Store.", "Kamera-App", "gehören also nicht aufs Telefon"}},
		"ru": {account.Android: {"Установите «OpenVPN Connect» из Google Play.", "копировать их на телефон не нужно"},
			account.IOS: {"Установите «OpenVPN Connect» из App Store.", "«Камера»", "копировать их на телефон не нужно"}},
	}
	for _, lang := range account.Langs {
		for _, os := range []account.OS{account.Android, account.IOS} {
			t.Run("ok/"+string(lang)+"/"+string(os), func(t *testing.T) {
				d := Data{User: "alice", OS: string(os), Lang: string(lang), Profile: "alice.ovpn", Expires: "2028-02-25",
					Servers: []Server{{"dc1", "vpn1.example.com", 1194, "udp", "vpn1.example.com:1194/udp", ""}}}
				b, err := tm.Readme(d)
				if err != nil {
					t.Fatal(err)
				}
				s := string(b)
				phrases := want[lang][os]
				if len(phrases) == 0 {
					t.Fatalf("no phrases for %s/%s", lang, os)
				}
				for _, p := range phrases {
					if !strings.Contains(s, p) {
						t.Errorf("got a readme without %q, want it:\n%s", p, s)
					}
				}
				// The computers' note on split files is not for phones.
				for _, l := range account.Langs {
					for _, other := range want[l] {
						if l != lang && strings.Contains(s, other[0]) {
							t.Errorf("got %q (%s) in the %s readme, want only %s text", other[0], l, lang, lang)
						}
					}
				}
				if strings.Contains(s, "nmcli") || strings.Contains(s, "Tunnelblick") || strings.Contains(s, "OpenVPN GUI") {
					t.Error("got a desktop client in a phone readme, want OpenVPN Connect only")
				}
			})
		}
	}
}
