package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportUsers: refused rows listed with their lines, good rows kept,
// --all-or-nothing keeps none, and a second run changes nothing.
func TestImportUsers(t *testing.T) {
	data, pf := setup(t)
	roster := filepath.Join("..", "roster", "testdata", "roster50.csv")
	r := run(t, nil, "--data", data, "--passphrase-file", pf, "import", "users", roster, "--all-or-nothing")
	if r.code != 2 || !strings.Contains(r.err, "refused: line 12:") || !strings.Contains(r.err, "nothing onboarded") {
		t.Fatalf("all-or-nothing: %+v", r)
	}
	if r := run(t, nil, "--data", data, "list", "--json"); strings.TrimSpace(r.out) != "[]" {
		t.Fatal("all-or-nothing onboarded someone")
	}
	r = run(t, nil, "--data", data, "--passphrase-file", pf, "import", "users", roster)
	if r.code != 2 || !strings.Contains(r.out, "50 rows: 47 issued, 0 kept, 0 unchanged, 3 refused") {
		t.Fatalf("import: %+v", r)
	}
	for _, line := range []string{"line 12:", "line 27:", "line 42:"} {
		if !strings.Contains(r.err, "refused: "+line) {
			t.Errorf("stderr lacks %q", line)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "bundles", "user49", "user49.ovpn")); err != nil {
		t.Fatal(err)
	}
	audit := run(t, nil, "--data", data, "audit", "--json", "--limit", "1000")
	r = run(t, nil, "--data", data, "--passphrase-file", pf, "import", "users", roster)
	if !strings.Contains(r.out, "0 issued, 0 kept, 47 unchanged") {
		t.Fatalf("second run: %+v", r)
	}
	if again := run(t, nil, "--data", data, "audit", "--json", "--limit", "1000"); again.out != audit.out {
		t.Fatal("the second run wrote to the audit log")
	}
}
