package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestCopyRefusesText: a full name that an older vpnkeys stored without the
// UTF-8 check stops db copy to PostgreSQL before anything is copied, with
// one line naming the user, the field and the fix; after the fix the copy
// goes through.
func TestCopyRefusesText(t *testing.T) {
	data, pf := setup(t)
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "--name", "Alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	src := filepath.Join(data, "vpnkeys.db")
	db, err := store.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("UPDATE users SET full_name = $1 WHERE name = 'alice'", "Jos\xe9 Garc\xeda"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dst := pgtest.Start(t)
	r := run(t, nil, "--data", data, "db", "copy", "--from", src, "--to", dst)
	want := `user "alice": full name: not valid UTF-8`
	if r.code != 2 || !strings.Contains(r.err, want) || strings.Count(strings.TrimSpace(r.err), "\n") > 0 {
		t.Fatalf("copy: got exit %d, %q; want exit 2 and one line with %q", r.code, r.err, want)
	}
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "--name", "José García"); r.code != 0 {
		t.Fatalf("add --name: %+v", r)
	}
	r = run(t, nil, "--data", data, "db", "copy", "--from", src, "--to", dst)
	if r.code != 0 || !strings.Contains(r.out, "copy verified") {
		t.Fatalf("copy after the fix: %+v", r)
	}
}

// TestInitHidesDSNPassword: the line naming the new CA's database hides a
// password given as a query parameter as well as one in the userinfo.
func TestInitHidesDSNPassword(t *testing.T) {
	sep := "?"
	dsn := pgtest.Start(t)
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "password=pg-s3cret-q" // the test cluster trusts loopback and ignores it
	data := filepath.Join(t.TempDir(), "data")
	r := run(t, map[string]string{"VPNKEYS_DB": dsn, EnvPassphrase: pass}, "--data", data, "init")
	if r.code != 0 || !strings.Contains(r.out, "CA created in postgres") || !strings.Contains(r.out, "password=xxxxx") {
		t.Fatalf("init: got %+v, want the DSN with password=xxxxx", r)
	}
	if strings.Contains(r.out+r.err, "pg-s3cret-q") {
		t.Fatalf("init printed the password: %+v", r)
	}
}
