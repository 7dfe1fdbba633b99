package authority

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

func TestUnlock(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	tests := []struct {
		name string
		pass string
		want error
	}{
		{"fail/wrong", "Tr0ub4dor&3", pki.ErrWrongPassphrase},
		{"fail/empty", "", pki.ErrWrongPassphrase},
		{"ok/right", testPass, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.reopen().Unlock(ctx, pki.Passphrase(tc.pass))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Unlock: got %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), tc.pass) && tc.pass != "" {
				t.Fatalf("error %q contains the passphrase", err)
			}
		})
	}
	if err := f.a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase("x")}); !errors.Is(err, ErrInitialized) {
		t.Fatalf("second Init: got %v, want ErrInitialized", err)
	}
}

// TestCAKeyOpensWithOpenSSL proves the stored CA key is a standard
// encrypted PKCS#8 that openssl opens with the passphrase, and that the
// passphrase is in no file vpnkeys wrote.
func TestCAKeyOpensWithOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice")
	ctx := context.Background()
	keyPEM, err := f.a.CAKeyPEM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(keyPEM, []byte("ENCRYPTED PRIVATE KEY")) {
		t.Fatalf("CA key is not an encrypted PKCS#8 PEM:\n%s", keyPEM[:40])
	}
	tmp := t.TempDir()
	keyFile, passFile := filepath.Join(tmp, "ca.key"), filepath.Join(tmp, "pass")
	os.WriteFile(keyFile, keyPEM, 0o600)
	os.WriteFile(passFile, []byte(testPass+"\n"), 0o600)
	out, err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+passFile, "-noout").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkey with the passphrase: %v\n%s", err, out)
	}
	os.WriteFile(passFile, []byte("wrong\n"), 0o600)
	if out, err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+passFile, "-noout").CombinedOutput(); err == nil {
		t.Fatalf("openssl pkey opened the CA key with a wrong passphrase:\n%s", out)
	}

	// Neither the passphrase nor any plain private key is in the database
	// or the data folder outside the bundles.
	filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b := readFile(t, p)
		if bytes.Contains(b, []byte(testPass)) {
			t.Errorf("%s contains the CA passphrase", p)
		}
		inBundle := strings.Contains(p, string(filepath.Separator)+"bundles"+string(filepath.Separator))
		if !inBundle && bytes.Contains(bytes.ReplaceAll(b, []byte("ENCRYPTED PRIVATE KEY"), nil), []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a plain private key", p)
		}
		return nil
	})
}

func TestAddUsers(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice"}}, AddOptions{}); !errors.Is(err, ErrNoServers) {
		t.Fatalf("AddUsers without servers: got %v, want ErrNoServers", err)
	}
	f.addServer(t, "dc1", "vpn1.example.com:1194/udp")
	f.addServer(t, "dc2", "vpn2.example.com:443/tcp")
	first := f.add(t, AddOptions{}, "alice", "bob")
	if !first[0].Issued || !first[1].Issued || first[0].Serial == first[1].Serial {
		t.Fatalf("first add: got %+v, want two fresh distinct certificates", first)
	}
	dir := filepath.Join(f.dir, "bundles", "alice")
	for name, want := range map[string]os.FileMode{
		"alice.ovpn": 0o600, "alice.key": 0o600, "ta.key": 0o600, "alice.crt": 0o644, "ca.crt": 0o644, "README.txt": 0o644,
	} {
		if got := mode(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s: got mode %o, want %o", name, got, want)
		}
	}
	for _, p := range []string{dir, filepath.Join(f.dir, "bundles")} {
		if got := mode(t, p); got != 0o700 {
			t.Errorf("%s: got mode %o, want 700", p, got)
		}
	}
	for _, p := range []string{"alice.tar.gz", "alice.zip"} {
		if got := mode(t, filepath.Join(f.dir, "bundles", p)); got != 0o600 {
			t.Errorf("%s: got mode %o, want 600", p, got)
		}
	}
	profile := string(readFile(t, filepath.Join(dir, "alice.ovpn")))
	for _, want := range []string{"remote vpn1.example.com 1194 udp\nremote vpn2.example.com 443 tcp\n", "<key>", "<tls-crypt>", "remote-cert-tls server"} {
		if !strings.Contains(profile, want) {
			t.Errorf("alice.ovpn lacks %q", want)
		}
	}
	out, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(dir, "ca.crt"), filepath.Join(dir, "alice.crt")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}

	// Again: the valid certificate and key are kept, the bundle rewritten.
	again := f.add(t, AddOptions{}, "alice")
	if again[0].Issued || again[0].Serial != first[0].Serial {
		t.Fatalf("second add: got %+v, want the kept certificate %s", again[0], first[0].Serial)
	}
	if got := string(readFile(t, filepath.Join(dir, "alice.key"))); !strings.Contains(profile, strings.TrimSpace(got)) {
		t.Fatal("re-rendered bundle carries a different key")
	}

	// --new-key: a fresh certificate, the old one revoked as superseded.
	fresh := f.add(t, AddOptions{NewKey: true}, "alice")
	if !fresh[0].Issued || fresh[0].Serial == first[0].Serial {
		t.Fatalf("new-key add: got %+v, want a fresh certificate", fresh[0])
	}
	d, err := f.a.Show(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Certificates) != 2 || d.Certificates[1].State != store.StateRevoked || d.Certificates[1].Reason != "superseded" {
		t.Fatalf("history: got %+v, want the first certificate revoked as superseded", d.Certificates)
	}
	crl, err := f.a.CRL(ctx)
	if err != nil || crl.Revoked != 1 {
		t.Fatalf("CRL after new-key: got %+v %v, want 1 revoked", crl, err)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice", "bob")
	srvDir := filepath.Join(t.TempDir(), "server")
	if err := f.a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	before, _ := f.a.CRL(ctx)
	res, err := f.a.Revoke(ctx, "alice", "key-compromise")
	if err != nil {
		t.Fatal(err)
	}
	if res.CRL.Number <= before.Number || res.CRL.Revoked != 1 {
		t.Fatalf("CRL after revoke: got #%d with %d, want > #%d with 1", res.CRL.Number, res.CRL.Revoked, before.Number)
	}
	// The server folder's crl.pem was refreshed in place.
	if got := readFile(t, filepath.Join(srvDir, "crl.pem")); !bytes.Equal(got, res.CRL.PEM) {
		t.Fatal("server crl.pem was not refreshed")
	}
	if got := readFile(t, filepath.Join(f.dir, "crl.pem")); !bytes.Equal(got, res.CRL.PEM) {
		t.Fatal("data crl.pem was not refreshed")
	}
	// A second revoke is not an error: it publishes the CRL again.
	if again, err := f.a.Revoke(ctx, "alice", "unspecified"); err != nil || !again.AlreadyRevoked {
		t.Fatalf("second revoke: got %+v %v, want AlreadyRevoked", again, err)
	}
	if _, err := f.a.Revoke(ctx, "carol", "unspecified"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("revoke unknown: got %v, want ErrUserNotFound", err)
	}
	users, _, err := f.a.List(ctx, ListFilter{Status: StatusRevoked})
	if err != nil || len(users) != 1 || users[0].Name != "alice" || users[0].Reason != "keyCompromise" {
		t.Fatalf("revoked users: got %+v %v, want alice (keyCompromise)", users, err)
	}
	// Adding a revoked user again takes an explicit choice.
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice"}}, AddOptions{}); !errors.Is(err, ErrRevokedUser) {
		t.Fatalf("re-add after revoke: got %v, want ErrRevokedUser", err)
	}
	if r := f.add(t, AddOptions{Reinstate: true}, "alice"); !r[0].Issued || !r[0].Reinstated || r[0].Serial == res.Serial {
		t.Fatalf("re-add after revoke with Reinstate: got %+v, want a new certificate, reinstated", r[0])
	}
	// Renew: new serial, old revoked as superseded.
	r, err := f.a.Renew(ctx, "bob", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.a.Show(ctx, "bob")
	if d.Serial != r.Serial || len(d.Certificates) != 2 || d.Certificates[1].Reason != "superseded" {
		t.Fatalf("after renew: got %+v", d)
	}
	if _, err := f.a.Renew(ctx, "nobody", AddOptions{}); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("renew unknown: got %v, want ErrUserNotFound", err)
	}
}

// hostileNames must be refused before anything touches a path, a template
// or a row.
var hostileNames = []string{
	"", "/", "../etc", "a/b", "..", ".", "-rf", ".hidden", "a b", "a'b", `a"b`, "$(reboot)", "a$b", "a;b",
	"a`id`", "a\nb", "a\tb", "a\x00b", "алиса", "josé", strings.Repeat("a", 65), "Alice", "a*", `a\b`,
	"a|b", "a&b", "a<b", "a>b", "a(b)", "a{b}", "~root", "#x", "a%b", "a=b", "a+b", "a!b", "a?b", "a,b",
	"a:b", "a@b", "a..b", "change_me/../x",
}

func TestHostileNamesChangeNothing(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	out := filepath.Join(t.TempDir(), "out")
	crlBefore, _ := f.a.CRL(ctx)
	for _, name := range hostileNames {
		_, err := f.a.AddUsers(ctx, []UserRequest{{Name: "good"}, {Name: name}}, AddOptions{OutDir: out})
		if !errors.Is(err, account.ErrInvalid) {
			t.Errorf("AddUsers(%q): got %v, want ErrInvalid", name, err)
		}
		if _, err := f.a.Revoke(ctx, name, "unspecified"); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("Revoke(%q): got %v, want ErrInvalid", name, err)
		}
		if _, err := f.a.AddServer(ctx, ServerRequest{Name: name, Remote: "h:1"}); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("AddServer(%q): got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder exists after refused requests: %v", err)
	}
	users, _, _ := f.a.List(ctx, ListFilter{})
	certs, _ := f.db.Q().AllCerts(ctx)
	servers, _ := f.a.Servers(ctx)
	if len(users) != 0 || len(certs) != 0 || len(servers) != 1 {
		t.Errorf("after refused requests: got %d users, %d certificates, %d servers; want 0, 0, 1", len(users), len(certs), len(servers))
	}
	if crl, _ := f.a.CRL(ctx); crl.Number != crlBefore.Number {
		t.Errorf("CRL number moved from %d to %d", crlBefore.Number, crl.Number)
	}
}

// TestFailedWriteChangesNothing: when the bundle cannot be written, no
// user, certificate or serial is recorded, and an existing bundle stays
// intact. The disk really fills up: the bundles go to a small tmpfs.
func TestFailedWriteChangesNothing(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, []byte("x"), 0o600)
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice"}}, AddOptions{OutDir: blocked}); err == nil {
		t.Fatal("AddUsers into a file: got nil error")
	}
	if users, _, _ := f.a.List(ctx, ListFilter{}); len(users) != 0 {
		t.Fatalf("got %d users after a failed write, want 0", len(users))
	}

	out := smallDisk(t, 256<<10)
	first := f.add(t, AddOptions{OutDir: out}, "bob")
	keyBefore := readFile(t, filepath.Join(out, "bob", "bob.key"))
	fillDisk(t, out)
	_, err := f.a.AddUsers(ctx, []UserRequest{{Name: "bob"}}, AddOptions{OutDir: out, NewKey: true})
	if err == nil {
		t.Fatal("AddUsers on a full disk: got nil error")
	}
	t.Logf("full disk: %v", err)
	if got := readFile(t, filepath.Join(out, "bob", "bob.key")); !bytes.Equal(got, keyBefore) {
		t.Fatal("the previous bundle changed")
	}
	if d, _ := f.a.Show(ctx, "bob"); d.Serial != first[0].Serial || len(d.Certificates) != 1 {
		t.Fatalf("after a failed write: got serial %s with %d certificates, want %s alone", d.Serial, len(d.Certificates), first[0].Serial)
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*"))
	if len(left) != 0 {
		t.Fatalf("staged files left behind: %v", left)
	}
}

// smallDisk mounts a tmpfs of size bytes (root only) and returns its path.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	if !testenv.IsRoot() {
		testenv.Missing(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size)+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fillDisk writes a file that takes all the space left on dir's filesystem.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	fh, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := fh.Write(buf); err != nil {
			return
		}
	}
}
