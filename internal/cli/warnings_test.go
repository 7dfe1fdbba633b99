package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
)

// TestWarnings: `warnings send --dry-run` shows who would get what and
// sends nothing; `warnings send` mails the warning due and the digest;
// `warnings` lists them; bad flags and schedules are exit 2.
func TestWarnings(t *testing.T) {
	data, pf := setup(t)
	smtp := smtptest.Start(t, false)
	cfg := filepath.Join(t.TempDir(), "vpnkeys.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`public_url = "https://vpn.example.com"
[smtp]
host = "127.0.0.1"
port = %d
username = %q
from = "vpn@example.com"
admin = "admin@example.com"
root_ca_file = %q
`, smtp.Port, smtp.User, smtp.CAFile)), 0o600)
	env := map[string]string{"VPNKEYS_SMTP_PASSWORD": smtp.Password}
	base := []string{"--data", data, "--passphrase-file", pf, "--config", cfg}
	for _, args := range [][]string{{"add", "alice", "--days", "5", "--email", "alice@example.com", "--lang", "es"}, {"add", "bob", "--days", "20"}} {
		if r := run(t, env, append(base, args...)...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	r := run(t, env, append(base, "warnings", "send", "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.out, "7 days (records 30 as passed)") || !strings.Contains(r.out, "(no email: skipped)") ||
		!strings.Contains(r.out, "digest to admin@example.com: 2 certificates") || len(smtp.Messages()) != 0 {
		t.Fatalf("dry run: got exit %d %q %q and %d mails", r.code, r.out, r.err, len(smtp.Messages()))
	}
	r = run(t, env, append(base, "warnings", "send")...)
	if r.code != 0 || !strings.Contains(r.out, "1 mailed, 0 failed, 1 without email") || len(smtp.Messages()) != 2 {
		t.Fatalf("send: got exit %d %q %q and %d mails, want alice's and the digest", r.code, r.out, r.err, len(smtp.Messages()))
	}
	r = run(t, env, append(base, "warnings", "--json")...)
	var rep authority.WarningsReport
	if err := json.Unmarshal([]byte(r.out), &rep); r.code != 0 || err != nil {
		t.Fatalf("warnings --json: exit %d %v %q", r.code, err, r.err)
	}
	if len(rep.Sent) != 3 || len(rep.Next) != 2 { // alice 7 and 30 passed, the digest; next: alice at 1, bob at 30
		t.Errorf("warnings: got %+v, want 3 recorded and 2 next", rep)
	}
	r = run(t, env, append(base, "warnings")...)
	if r.code != 0 || !strings.Contains(r.out, "mailed") || !strings.Contains(r.out, "no email") {
		t.Errorf("warnings: got exit %d %q", r.code, r.out)
	}
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"fail/flag":     {env, []string{"warnings", "--bogus"}, "unknown flag"},
		"fail/argument": {env, []string{"warnings", "sen"}, `unknown command "sen" for "vpnkeys warnings"; did you mean "send"?`},
		"fail/no smtp":  {nil, []string{"--data", data, "warnings", "send"}, "mail is not configured"},
		"fail/env":      {map[string]string{"VPNKEYS_WARN_DAYS": "0"}, []string{"--data", data, "warnings"}, `VPNKEYS_WARN_DAYS "0"`},
		"fail/interval": {nil, []string{"--data", data, "serve", "--warn-interval", "0s"}, "--warn-interval 0s"},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if c.env != nil && c.env["VPNKEYS_SMTP_PASSWORD"] != "" {
				args = append(base, args...)
			}
			r := run(t, c.env, args...)
			if r.code != 2 || !strings.Contains(r.err, c.want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Errorf("got exit %d %q, want 2 and one line with %q", r.code, r.err, c.want)
			}
		})
	}
}
