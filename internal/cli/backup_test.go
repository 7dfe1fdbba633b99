package cli

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// state is what a backup must carry over: users, certificates, CRL, audit.
func state(t *testing.T, data string) (users []authority.UserView, crl, audit string) {
	t.Helper()
	r := run(t, nil, "--data", data, "list", "--json")
	if r.code != 0 {
		t.Fatalf("list: %+v", r)
	}
	if err := json.Unmarshal([]byte(r.out), &users); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	if r = run(t, nil, "--data", data, "crl"); r.code != 0 {
		t.Fatalf("crl: %+v", r)
	}
	crl = r.out
	if r = run(t, nil, "--data", data, "audit", "--limit", "100000", "--json"); r.code != 0 {
		t.Fatalf("audit: %+v", r)
	}
	var evs []map[string]any
	if err := json.Unmarshal([]byte(r.out), &evs); err != nil {
		t.Fatalf("audit --json: %v", err)
	}
	var keep []map[string]any
	for _, e := range evs { // backup and restore records are the only difference
		if a, _ := e["action"].(string); a != "db.backup" && a != "db.restore" {
			keep = append(keep, e)
		}
	}
	b, _ := json.Marshal(keep)
	return users, crl, string(b)
}

// TestBackupWhileWriting backs up while users are being added (each add a
// separate opening of the database, as a second process would), restores
// into an empty folder, and finds a consistent snapshot; once the writers
// stop, a backup restores to exactly the same users, certificates, CRL and
// audit log.
func TestBackupWhileWriting(t *testing.T) {
	data, pf := setup(t)
	for _, args := range [][]string{{"add", "alice", "bob"}, {"revoke", "bob", "--reason", "key-compromise"}} {
		if r := run(t, nil, append([]string{"--data", data, "--passphrase-file", pf}, args...)...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	dir := t.TempDir()
	during := filepath.Join(dir, "during.db")
	backupDuringAdds(t, data, pf, during)
	t.Run("ok/snapshot-consistent", func(t *testing.T) { snapshotConsistent(t, during) })
	t.Run("ok/same-state", func(t *testing.T) { sameState(t, data, pf, filepath.Join(dir, "after.db")) })
}

// backupDuringAdds adds users u00..u11 one at a time in a goroutine and
// backs up to path once u03 is in.
func backupDuringAdds(t *testing.T, data, pf, path string) {
	var wg sync.WaitGroup
	started := make(chan struct{})
	errs := make(chan string, 20)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 12 {
			var out, errb strings.Builder
			code := Run(t.Context(), []string{"--data", data, "--passphrase-file", pf, "add", fmt.Sprintf("u%02d", i)},
				Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
			if code != 0 {
				errs <- fmt.Sprintf("add u%02d: %d %s", i, code, errb.String())
			}
			if i == 3 {
				close(started)
			}
		}
	}()
	<-started
	if r := run(t, nil, "--data", data, "backup", path); r.code != 0 {
		t.Errorf("backup during writes: %+v", r)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// snapshotConsistent restores a backup taken while users were being added
// and checks that every user in it came in whole.
func snapshotConsistent(t *testing.T, during string) {
	if fi, err := os.Stat(during); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v, want 0600", err, fi)
	}
	dst := filepath.Join(t.TempDir(), "data")
	if r := run(t, nil, "--data", dst, "restore", during); r.code != 0 {
		t.Fatalf("restore: %+v", r)
	}
	users, _, _ := state(t, dst)
	if len(users) < 2+4 || len(users) > 2+12 {
		t.Fatalf("got %d users in a backup taken after u03, want 6..14", len(users))
	}
	for _, u := range users {
		if u.Serial == "" {
			t.Errorf("user %s has no certificate in the snapshot", u.Name)
		}
		r := run(t, nil, "--data", dst, "audit", "--target", u.Name, "--json")
		if !strings.Contains(r.out, "user.") {
			t.Errorf("user %s: no audit record in the snapshot: %s", u.Name, r.out)
		}
	}
}

// sameState backs up the quiet source to path, restores it into an empty
// folder and compares users, certificates, CRL and audit log.
func sameState(t *testing.T, data, pf, path string) {
	if r := run(t, nil, "--data", data, "backup", path); r.code != 0 {
		t.Fatalf("backup: %+v", r)
	}
	dst := filepath.Join(t.TempDir(), "data")
	r := run(t, nil, "--data", dst, "restore", path)
	if r.code != 0 || !strings.Contains(r.out, "restored") {
		t.Fatalf("restore: %+v", r)
	}
	wantUsers, wantCRL, wantAudit := state(t, data)
	gotUsers, gotCRL, gotAudit := state(t, dst)
	if len(wantUsers) != 14 {
		t.Fatalf("got %d users in the source, want 14", len(wantUsers))
	}
	gu, _ := json.Marshal(gotUsers)
	wu, _ := json.Marshal(wantUsers)
	if string(gu) != string(wu) {
		t.Errorf("users: got %s, want %s", gu, wu)
	}
	if gotCRL != wantCRL || !strings.Contains(gotCRL, "BEGIN X509 CRL") {
		t.Errorf("CRL: got %q, want %q", gotCRL, wantCRL)
	}
	if gotAudit != wantAudit {
		t.Errorf("audit: got %s, want %s", gotAudit, wantAudit)
	}
	for _, name := range []string{"alice", "bob"} {
		g := run(t, nil, "--data", dst, "show", name, "--json")
		w := run(t, nil, "--data", data, "show", name, "--json")
		if g.code != 0 || g.out != w.out {
			t.Errorf("show %s: got %+v, want %q", name, g, w.out)
		}
	}
	// The restored CA still signs: the passphrase carried over.
	if r := run(t, nil, "--data", dst, "--passphrase-file", pf, "crl", "--refresh"); r.code != 0 {
		t.Errorf("crl --refresh on the restored data: %+v", r)
	}
	if r := run(t, nil, "--data", dst, "audit", "--action", "db.restore"); !strings.Contains(r.out, path) {
		t.Errorf("audit has no db.restore of %s: %s", path, r.out)
	}
	if r := run(t, nil, "--data", data, "audit", "--action", "db.backup"); !strings.Contains(r.out, path) {
		t.Errorf("audit has no db.backup of %s: %s", path, r.out)
	}
}

func TestBackupRefusals(t *testing.T) {
	data, _ := setup(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if r := run(t, nil, "--data", data, "backup", good); r.code != 0 {
		t.Fatalf("backup: %+v", r)
	}
	t.Run("fail/backup-over-existing-file", func(t *testing.T) {
		existing := filepath.Join(dir, "existing")
		os.WriteFile(existing, []byte("keep me"), 0o644)
		r := run(t, nil, "--data", data, "backup", existing)
		if b, _ := os.ReadFile(existing); r.code != 2 || string(b) != "keep me" {
			t.Fatalf("got %+v and file %q, want exit 2 and the file kept", r, b)
		}
	})
	t.Run("fail/backup-postgres", func(t *testing.T) {
		r := run(t, nil, "--db", "postgres://vpnkeys@127.0.0.1:1/vpnkeys", "backup", filepath.Join(dir, "pg.db"))
		if r.code != 2 || !strings.Contains(r.err, "pg_dump") {
			t.Fatalf("got %+v, want exit 2 naming pg_dump", r)
		}
	})
	t.Run("fail/restore-over-existing-without-force", func(t *testing.T) {
		before, _ := os.ReadFile(filepath.Join(data, "vpnkeys.db"))
		r := run(t, nil, "--data", data, "restore", good)
		after, _ := os.ReadFile(filepath.Join(data, "vpnkeys.db"))
		if r.code != 2 || !strings.Contains(r.err, "--force") || string(before) != string(after) {
			t.Fatalf("got %+v, want exit 2 naming --force and the database unchanged", r)
		}
	})
	t.Run("ok/restore-force-keeps-bak", func(t *testing.T) {
		dst, _ := setup(t)
		r := run(t, nil, "--data", dst, "restore", "--force", good)
		if r.code != 0 || !strings.Contains(r.out, ".bak") {
			t.Fatalf("got %+v, want the old database kept as .bak", r)
		}
		baks, _ := filepath.Glob(filepath.Join(dst, "vpnkeys.db.*.bak"))
		if len(baks) != 1 {
			t.Fatalf("got .bak files %v, want one", baks)
		}
		if _, err := store.CheckBackup(t.Context(), baks[0]); err != nil {
			t.Errorf("the kept database is not whole: %v", err)
		}
	})
	for name, mk := range badBackups(good) {
		t.Run("fail/restore-"+name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), name+".db")
			mk(p)
			dst := filepath.Join(t.TempDir(), "data")
			r := run(t, nil, "--data", dst, "restore", p)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Fatalf("got %+v, want exit 2 and one line", r)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("restore of a bad file made %s: %v", dst, err)
			}
		})
	}
}

// badBackups makes, from a good backup, files restore must refuse.
func badBackups(good string) map[string]func(path string) {
	return map[string]func(path string){
		"not-sqlite": func(p string) { os.WriteFile(p, []byte("hello, not a database"), 0o600) },
		"corrupt": func(p string) {
			b, _ := os.ReadFile(good)
			for i := 4096; i < len(b) && i < 4096*4; i++ {
				b[i] ^= 0x5a
			}
			os.WriteFile(p, b, 0o600)
		},
		"no-vpnkeys-schema": func(p string) {
			db, _ := sql.Open("sqlite", p)
			db.Exec(`CREATE TABLE t (x)`)
			db.Close()
		},
		"newer-schema": func(p string) {
			b, _ := os.ReadFile(good)
			os.WriteFile(p, b, 0o600)
			db, _ := sql.Open("sqlite", p)
			db.Exec(`INSERT INTO schema_migrations (version) VALUES (9999)`)
			db.Close()
		},
		"no-ca": func(p string) {
			b, _ := os.ReadFile(good)
			os.WriteFile(p, b, 0o600)
			db, _ := sql.Open("sqlite", p)
			db.Exec(`PRAGMA foreign_keys = OFF; DELETE FROM ca`)
			db.Close()
		},
	}
}
