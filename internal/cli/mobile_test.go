package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddPhoneUser: "add --os iPhone" takes the alias and writes the iOS
// readme in the user's language; the inline profile is in the bundle.
func TestAddPhoneUser(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct{ user, os, lang, want string }{
		{"erin", "iPhone", "de", "aus dem App Store"},
		{"femi", "android", "fr", "depuis Google Play"},
	} {
		t.Run("ok/"+tc.os, func(t *testing.T) {
			r := run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "add", tc.user, "--os", tc.os, "--lang", tc.lang, "--remote", "vpn.example.com:1194")
			if r.code != 0 {
				t.Fatalf("add: got %+v, want exit 0", r)
			}
			b, err := os.ReadFile(filepath.Join(data, "bundles", tc.user, "README.txt"))
			if err != nil || !strings.Contains(string(b), tc.want) {
				t.Fatalf("got README %v:\n%s\nwant it to say %q", err, b, tc.want)
			}
			if _, err := os.Stat(filepath.Join(data, "bundles", tc.user, tc.user+".ovpn")); err != nil {
				t.Fatalf("got %v, want the inline profile", err)
			}
		})
	}
}
