package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentBadInput: each mistake is one line naming it, exit 2, and no
// state folder made.
func TestAgentBadInput(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tok := filepath.Join(dir, "token")
	secret := strings.Repeat("s", 43)
	os.WriteFile(tok, []byte("vpkj1."+strings.Repeat("ab", 32)+"."+secret+"\n"), 0o600)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a token\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/join without --state", []string{"agent", "join", "https://127.0.0.1:1", "--token-file", tok}, "--state is required"},
		{"fail/join without --token-file", []string{"agent", "join", "https://127.0.0.1:1", "--state", state}, "--token-file is required"},
		{"fail/unreadable token file", []string{"agent", "join", "https://127.0.0.1:1", "--token-file", filepath.Join(dir, "missing"), "--state", state}, "reading --token-file"},
		{"fail/not a token", []string{"agent", "join", "https://127.0.0.1:1", "--token-file", garbage, "--state", state}, "not a vpnkeys join token"},
		{"fail/malformed URL", []string{"agent", "join", "http://127.0.0.1:1", "--token-file", tok, "--state", state}, "want https://HOST[:PORT]"},
		{"fail/URL with a path", []string{"agent", "join", "https://h/x?token=1", "--token-file", tok, "--state", state}, "want https://HOST[:PORT]"},
		{"fail/run without --state", []string{"agent", "run", "--dir", dir}, "--state is required"},
		{"fail/run without --dir", []string{"agent", "run", "--state", state}, "--dir is required"},
		{"fail/run before join", []string{"agent", "run", "--state", state, "--dir", dir}, "run vpnkeys agent join first"},
		{"fail/run with a bad interval", []string{"agent", "run", "--state", state, "--dir", dir, "--report-interval", "0s"}, "--report-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			lines := strings.Split(strings.TrimSpace(r.err), "\n")
			if r.code != 2 || len(lines) != 1 || !strings.Contains(r.err, tc.want) {
				t.Errorf("got exit %d, stderr %q; want exit 2 and one line with %q", r.code, r.err, tc.want)
			}
			if strings.Contains(r.out+r.err, secret) {
				t.Errorf("the token's secret was printed: %q", r.err)
			}
			if _, err := os.Stat(state); err == nil {
				t.Error("the state folder was made")
			}
		})
	}
	t.Run("fail/control plane unreachable", func(t *testing.T) {
		r := run(t, nil, "agent", "join", "https://127.0.0.1:1", "--token-file", tok, "--state", state)
		if r.code == 0 || strings.Contains(r.out+r.err, secret) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Errorf("got exit %d, stderr %q; want a failure on one line without the secret", r.code, r.err)
		}
		if _, err := os.Stat(state); err == nil {
			t.Error("the state folder was made")
		}
	})
}
