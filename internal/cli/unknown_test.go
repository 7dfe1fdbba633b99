package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUnknownCommands: an unknown command or subcommand exits 2 with one
// line naming it and the nearest known one, never help and exit 0.
func TestUnknownCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fail/root typo", []string{"ad"}, `unknown command "ad"; did you mean "add"?`},
		{"fail/token typo", []string{"token", "revok", "ci"}, `unknown command "revok" for "vpnkeys token"; did you mean "revoke"?`},
		{"fail/server no such", []string{"server", "frob", "dc3"}, `unknown command "frob" for "vpnkeys server"; run 'vpnkeys server --help' for the list`},
		{"fail/no suggestion", []string{"frobnicate"}, `unknown command "frobnicate"; run 'vpnkeys --help'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data}, tc.args...)...)
			if r.code != 2 {
				t.Fatalf("exit code: got %d, want 2 (%+v)", r.code, r)
			}
			if got := strings.TrimSpace(r.err); got != "vpnkeys: "+tc.want && !strings.HasPrefix(got, "vpnkeys: "+tc.want) {
				t.Fatalf("stderr: got %q, want %q", got, "vpnkeys: "+tc.want)
			}
			if strings.Count(strings.TrimSpace(r.err), "\n") != 0 || r.out != "" {
				t.Fatalf("want one line on stderr and nothing on stdout, got %+v", r)
			}
		})
	}
	// Every parent command, whatever its name, refuses an unknown word.
	var parents []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() {
			parents = append(parents, c)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk((&app{}).rootCommand())
	if len(parents) < 5 {
		t.Fatalf("parent commands: got %d, want at least 5", len(parents))
	}
	for _, p := range parents {
		path := strings.Fields(p.CommandPath())[1:]
		t.Run("fail/"+strings.Join(append([]string{"root"}, path...), " "), func(t *testing.T) {
			r := run(t, nil, append(append([]string{"--data", data}, path...), "zzzq")...)
			if r.code != 2 || !strings.Contains(r.err, `unknown command "zzzq"`) {
				t.Fatalf("got %+v, want exit 2 naming zzzq", r)
			}
		})
	}
}
