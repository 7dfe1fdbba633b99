package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestImportEasyRSARenewed: a PKI where easy-rsa 3.1's renew kept alice's
// old certificate valid. A link to /dev/zero in it is refused with a line
// naming it and nothing written; without it, the dry run and the import say
// what becomes of the old certificate, one line, and the import does it.
func TestImportEasyRSARenewed(t *testing.T) {
	er := easyrsatest.New(t, "p256", "")
	er.Run(t, "build-client-full", "alice", "nopass")
	er.Run(t, "build-client-full", "bob", "nopass")
	er.Run(t, "--renew-days=3000", "renew", "alice", "nopass")
	old, err := pki.ParseCert(mustReadFile(t, filepath.Join(er.Dir, "renewed", "issued", "alice.crt")))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := pki.ParseCert(mustReadFile(t, filepath.Join(er.Dir, "issued", "alice.crt")))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")

	zero := filepath.Join(er.Dir, "issued", "zero.crt")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "--data", data, "import", "easyrsa", er.Dir)
	if r.code != 2 || !strings.Contains(r.err, "vpnkeys: issued/zero.crt: is a symbolic link") {
		t.Fatalf("import with a link: got %+v, want exit 2 naming issued/zero.crt", r)
	}
	if r := run(t, nil, "--data", data, "crl"); r.code != 2 || !strings.Contains(r.err, "no CA yet") {
		t.Fatalf("database after a refused import: got %+v, want no CA", r)
	}
	os.Remove(zero)

	line := fmt.Sprintf("alice: older certificate %s (valid until %s) %%s as superseded; %s kept\n",
		pki.SerialHex(old.SerialNumber), old.NotAfter.UTC().Format(time.DateOnly), pki.SerialHex(cur.SerialNumber))
	r = run(t, nil, "--data", data, "import", "easyrsa", er.Dir, "--dry-run")
	if want := fmt.Sprintf(line, "would be revoked"); r.code != 0 || !strings.Contains(r.out, want) || strings.Count(r.out, "older certificate") != 1 {
		t.Fatalf("dry run: got %+v, want one line %q", r, want)
	}
	r = run(t, nil, "--data", data, "import", "easyrsa", er.Dir)
	if want := fmt.Sprintf(line, "revoked"); r.code != 0 || !strings.Contains(r.out, want) || strings.Count(r.out, "older certificate") != 1 {
		t.Fatalf("import: got %+v, want one line %q", r, want)
	}
	if r := run(t, nil, "--data", data, "crl", "--info"); r.code != 0 || !strings.Contains(r.out, ": 1 revoked") {
		t.Fatalf("crl after the import: got %+v, want 1 revoked", r)
	}
}
