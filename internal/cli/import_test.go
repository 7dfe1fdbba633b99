package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
)

// TestImportEasyRSA: a damaged PKI is refused with one line per problem,
// each naming its file and line, and the database stays empty; the intact
// one then imports, and a dry run before it changes nothing.
func TestImportEasyRSA(t *testing.T) {
	er := easyrsatest.New(t, "p256", "import pass")
	er.Run(t, "build-client-full", "alice", "nopass")
	er.Run(t, "build-client-full", "bob", "nopass")
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{EnvPassphrase: "import pass"}

	index := filepath.Join(er.Dir, "index.txt")
	good, _ := os.ReadFile(index)
	os.WriteFile(index, append(good, []byte("V\t290225015646Z\t\tABCD\tunknown\t/CN=ghost\nbroken\n")...), 0o644)
	r := run(t, env, "--data", data, "import", "easyrsa", er.Dir)
	if r.code != 2 || !strings.Contains(r.err, "vpnkeys: index.txt:4: want 6 tab-separated fields") {
		t.Fatalf("damaged import: got %+v, want exit 2 naming index.txt:4", r)
	}
	os.WriteFile(index, append(good, []byte("V\t290225015646Z\t\tABCD\tunknown\t/CN=ghost\n")...), 0o644)
	os.WriteFile(filepath.Join(er.Dir, "private", "bob.key"), mustReadFile(t, filepath.Join(er.Dir, "private", "alice.key")), 0o600)
	r = run(t, env, "--data", data, "import", "easyrsa", er.Dir)
	if r.code != 2 || !strings.Contains(r.err, "index.txt:3: no certificate file for serial ABCD") || !strings.Contains(r.err, "private/bob.key: does not match") {
		t.Fatalf("damaged import: got %+v, want both problems", r)
	}
	if n := strings.Count(strings.TrimSpace(r.err), "\n") + 1; n != 2 {
		t.Fatalf("got %d lines of problems, want 2:\n%s", n, r.err)
	}
	if r := run(t, nil, "--data", data, "crl"); r.code != 2 || !strings.Contains(r.err, "no CA yet") {
		t.Fatalf("database after a refused import: got %+v, want no CA", r)
	}

	os.WriteFile(index, good, 0o644)
	bobKey := filepath.Join(er.Dir, "private", "bob.key")
	os.Remove(bobKey)
	r = run(t, env, "--data", data, "import", "easyrsa", er.Dir, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "would import 2 users") {
		t.Fatalf("dry run: %+v", r)
	}
	if r := run(t, nil, "--data", data, "list", "--json"); strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("after a dry run: got %s, want no users", r.out)
	}
	r = run(t, env, "--data", data, "import", "easyrsa", er.Dir)
	if r.code != 0 || !strings.Contains(r.out, "imported 2 users") {
		t.Fatalf("import: %+v", r)
	}
	if r := run(t, env, "--data", data, "import", "easyrsa", er.Dir); r.code != 2 {
		t.Fatalf("second import: got %+v, want exit 2", r)
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
