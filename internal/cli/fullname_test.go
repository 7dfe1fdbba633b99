package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// TestAddFullNameRule: add --name and --email refuse what the roster
// refuses (invalid UTF-8, control characters, bidi controls) with exit 2,
// one line naming the rule, and nothing created; a name in any script is
// kept as given.
func TestAddFullNameRule(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fail/invalid utf8", []string{"--name", "Jos\xe9 Garc\xeda"}, "full name: not valid UTF-8"},
		{"fail/bidi override", []string{"--name", "Ann \u202Egpj.exe"}, "full name: contains a bidi override (U+202E)"},
		{"fail/bidi isolate", []string{"--name", "\u2067Ann"}, "full name: contains a bidi isolate (U+2067)"},
		{"fail/c1 control", []string{"--name", "Ann\u0085Bcc"}, "full name: contains a control character (U+0085)"},
		{"fail/email bidi", []string{"--email", "ann@exa\u202Eelpm.com"}, "email: contains a bidi override (U+202E)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(dir, "data")
			args := append([]string{"--data", data, "add", "bob", "--remote", "vpn.example.com:1194"}, tc.args...)
			r := run(t, map[string]string{EnvPassphrase: pass}, args...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) {
				t.Fatalf("got exit %d, %q; want exit 2 and %q", r.code, r.err, tc.want)
			}
			if strings.Count(strings.TrimSpace(r.err), "\n") > 1 {
				t.Fatalf("stderr has more than two lines: %q", r.err)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("the refused add created %s", data)
			}
		})
	}
	t.Run("ok/any script", func(t *testing.T) {
		data := filepath.Join(dir, "data")
		const full = "José Müller דוד\u200F 李"
		r := run(t, map[string]string{EnvPassphrase: pass}, "--data", data, "add", "bob", "--remote", "vpn.example.com:1194", "--name", full)
		if r.code != 0 {
			t.Fatalf("add: %+v", r)
		}
		r = run(t, nil, "--data", data, "list", "--json")
		var users []authority.UserView
		if err := json.Unmarshal([]byte(r.out), &users); err != nil || len(users) != 1 || users[0].FullName != full {
			t.Fatalf("list --json: got %q, %v; want bob named %q", r.out, err, full)
		}
	})
}
