package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReinstate: a revoked user listed in a roster, added or renewed
// again is refused (exit 2, the row listed) until --reinstate, which the
// output and the audit log say.
func TestReinstate(t *testing.T) {
	data, pf := setup(t)
	cli := func(args ...string) result {
		return run(t, nil, append([]string{"--data", data, "--passphrase-file", pf}, args...)...)
	}
	if r := cli("add", "alice", "bob"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	if r := cli("revoke", "alice", "bob", "--reason", "affiliation-changed"); r.code != 0 || strings.Count(r.out, "revoked certificate") != 2 || !strings.Contains(r.out, "bundle removed") {
		t.Fatalf("revoke: %+v", r)
	}
	if r := cli("revoke", "alice"); r.code != 0 || !strings.Contains(r.out, "already revoked") {
		t.Fatalf("revoke again: %+v, want exit 0 saying already revoked", r)
	}
	roster := filepath.Join(t.TempDir(), "staff.csv")
	os.WriteFile(roster, []byte("user,email\ncarol,carol@example.com\nalice,alice@example.com\n"), 0o600)
	r := cli("import", "users", roster)
	if r.code != 2 || !strings.Contains(r.err, "refused: line 3: user \"alice\"") || !strings.Contains(r.err, "revoked") || !strings.Contains(r.out, "1 issued") {
		t.Fatalf("roster with a revoked user: %+v, want exit 2 with line 3 refused and carol issued", r)
	}
	for _, args := range [][]string{{"add", "alice"}, {"renew", "bob"}} {
		if r := cli(args...); r.code != 2 || !strings.Contains(r.err, "revoked") {
			t.Errorf("%v: %+v, want exit 2 naming the revocation", args, r)
		}
	}
	if r := cli("import", "users", roster, "--reinstate"); r.code != 0 || !strings.Contains(r.out, "alice: reinstated") {
		t.Fatalf("roster --reinstate: %+v", r)
	}
	if r := cli("renew", "bob", "--reinstate"); r.code != 0 || !strings.Contains(r.out, "reinstated") {
		t.Fatalf("renew --reinstate: %+v", r)
	}
	if r := cli("audit", "--target", "alice"); !strings.Contains(r.out, "user.reinstate") {
		t.Fatalf("audit lacks user.reinstate:\n%s", r.out)
	}
}

// TestAuditJSONShape: `audit --json` prints the API's shape: lowercase
// keys and the detail as an object, not a string.
func TestAuditJSONShape(t *testing.T) {
	data, pf := setup(t)
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	r := run(t, nil, "--data", data, "audit", "--target", "alice", "--json")
	var evs []map[string]any
	if err := json.Unmarshal([]byte(r.out), &evs); err != nil || len(evs) == 0 {
		t.Fatalf("audit --json: %v %q", err, r.out)
	}
	e := evs[0]
	if _, ok := e["id"]; !ok {
		t.Errorf("no \"id\" key: %v", e)
	}
	if _, ok := e["detail"].(map[string]any); !ok {
		t.Errorf("detail is %T, want an object: %v", e["detail"], e)
	}
}
