package authority

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestImportEasyRSASupersedes: a user easy-rsa left with two valid
// certificates (3.1's renew, or a second build-client-full after the first
// one's files were moved away) keeps the newer one; the import puts the
// older one on the CRL as superseded, so the real openssl refuses it with
// the CRL vpnkeys signed at the import's end, and accepts the newer one
// until the user is revoked. A dry run says the same and writes nothing.
func TestImportEasyRSASupersedes(t *testing.T) {
	for _, tc := range []struct {
		name string
		// renew makes alice's second certificate and returns the file of
		// her first one.
		renew func(t *testing.T, er *easyrsatest.PKI) string
	}{
		{"ok/renew", func(t *testing.T, er *easyrsatest.PKI) string {
			er.Run(t, "--renew-days=3000", "renew", "alice", "nopass")
			return filepath.Join(er.Dir, "renewed", "issued", "alice.crt")
		}},
		{"ok/duplicate rows", func(t *testing.T, er *easyrsatest.PKI) string {
			old := filepath.Join(t.TempDir(), "alice-old.crt")
			if err := os.Rename(filepath.Join(er.Dir, "issued", "alice.crt"), old); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(er.Dir, "private", "alice.key"))
			os.Remove(filepath.Join(er.Dir, "reqs", "alice.req"))
			er.Run(t, "build-client-full", "alice", "nopass")
			return old
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testImportSupersedes(t, tc.renew)
		})
	}
}

func testImportSupersedes(t *testing.T, renew func(*testing.T, *easyrsatest.PKI) string) {
	ctx := context.Background()
	openssl := testenv.OpenSSL(t)
	er := easyrsatest.New(t, "p256", "")
	er.Run(t, "build-client-full", "alice", "nopass")
	er.Run(t, "build-client-full", "bob", "nopass")
	oldFile := renew(t, er)
	newFile := filepath.Join(er.Dir, "issued", "alice.crt")
	oldSerial, newSerial := fileSerial(t, oldFile), fileSerial(t, newFile)

	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := New(db, Options{DataDir: dir})

	want := Retired{User: "alice", Serial: oldSerial, Kept: newSerial}
	for _, dry := range []bool{true, false} {
		sum, err := a.ImportEasyRSA(ctx, er.Dir, ImportOptions{DryRun: dry})
		if err != nil {
			t.Fatalf("ImportEasyRSA(dry run %v): %v", dry, err)
		}
		if len(sum.Retired) != 1 || sum.Retired[0].User != want.User || sum.Retired[0].Serial != want.Serial || sum.Retired[0].Kept != want.Kept {
			t.Fatalf("dry run %v: got retired %+v, want one %+v", dry, sum.Retired, want)
		}
		if sum.Active != 2 || sum.Users != 2 {
			t.Fatalf("dry run %v: got %+v, want 2 users, 2 active", dry, sum)
		}
		if ok, _ := a.Initialized(ctx); ok == dry {
			t.Fatalf("dry run %v: initialized %v afterwards", dry, ok)
		}
	}
	if d, err := a.Show(ctx, "alice"); err != nil || d.Serial != newSerial {
		t.Fatalf("alice after import: got %+v, %v, want serial %s", d, err, newSerial)
	}
	verify := func(file string) (bool, string) {
		crl, err := a.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		crlFile := filepath.Join(t.TempDir(), "crl.pem")
		os.WriteFile(crlFile, crl.PEM, 0o600)
		out, err := exec.Command(openssl, "verify", "-crl_check", "-CAfile", filepath.Join(er.Dir, "ca.crt"), "-CRLfile", crlFile, file).CombinedOutput()
		return err == nil, string(out)
	}
	if ok, out := verify(oldFile); ok || !strings.Contains(out, "certificate revoked") {
		t.Fatalf("openssl verify of alice's older certificate: got ok=%v\n%s\nwant certificate revoked", ok, out)
	}
	if ok, out := verify(newFile); !ok {
		t.Fatalf("openssl verify of alice's kept certificate: got\n%s\nwant OK", out)
	}
	events, err := a.Audit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, e := range events {
		audited = audited || e.Action == "user.supersede" && e.Target == "alice" && strings.Contains(e.DetailText(), oldSerial)
	}
	if !audited {
		t.Fatalf("audit: got %+v, want a user.supersede of alice naming %s", events, oldSerial)
	}

	if _, err := a.Revoke(ctx, "alice", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{oldFile, newFile} {
		if ok, out := verify(f); ok {
			t.Fatalf("openssl verify of %s after revoking alice: got OK, want refused\n%s", filepath.Base(f), out)
		}
	}
}

func fileSerial(t *testing.T, path string) string {
	t.Helper()
	c, err := pki.ParseCert(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return pki.SerialHex(c.SerialNumber)
}
