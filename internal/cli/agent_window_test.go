package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentRestartWindowFlag: a bad --restart-window exits 2 with one
// line naming it, before the agent touches anything.
func TestAgentRestartWindowFlag(t *testing.T) {
	for _, bad := range []string{"25:00-01:00", "02:00", "2-4", "02:00-02:00"} {
		t.Run("fail/"+bad, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "server")
			r := run(t, nil, "agent", "run", "--state", t.TempDir(), "--dir", dir, "--restart-window", bad)
			if r.code != 2 || !strings.Contains(r.err, `restart window "`+bad+`"`) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Fatalf("got %d %q, want exit 2 and one line naming the window", r.code, r.err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the server folder was made: %v", err)
			}
		})
	}
}
