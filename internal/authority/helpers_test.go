package authority

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

const testPass = "correct horse battery staple"

// fixture is an authority on a fresh SQLite database in a temp folder.
type fixture struct {
	a    *Authority
	db   *store.DB
	dir  string
	opts Options
}

func newFixture(t testing.TB, algo pki.Algo) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts := Options{DataDir: dir, Company: "Example Ltd", Contact: "it@example.com"}
	a := New(db, opts)
	if err := a.Init(ctx, InitRequest{Algo: algo, Passphrase: pki.Passphrase(testPass)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return &fixture{a: a, db: db, dir: dir, opts: opts}
}

func (f *fixture) addServer(t testing.TB, name, remote string) {
	t.Helper()
	// A /16: every user gets a fixed address on every server, and the
	// benchmarks onboard thousands (the default /24 holds 253).
	if _, err := f.a.AddServer(context.Background(), ServerRequest{Name: name, Remote: remote, Subnet: "10.8.0.0/16"}); err != nil {
		t.Fatalf("AddServer: %v", err)
	}
}

func (f *fixture) add(t testing.TB, opts AddOptions, names ...string) []AddResult {
	t.Helper()
	reqs := make([]UserRequest, len(names))
	for i, n := range names {
		reqs[i] = UserRequest{Name: n}
	}
	res, err := f.a.AddUsers(context.Background(), reqs, opts)
	if err != nil {
		t.Fatalf("AddUsers(%v): %v", names, err)
	}
	return res
}

// reopen returns a second, locked Authority on the same database, as a
// second process would be.
func (f *fixture) reopen() *Authority { return New(f.db, f.opts) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t testing.TB, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func auditFilterTarget(target string) AuditFilter { return AuditFilter{Target: target} }

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
