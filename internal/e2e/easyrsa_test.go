package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestEasyRSAAdoption: a PKI built by the real easy-rsa is imported; its
// users show with the right status; the profile re-rendered for an imported
// user (same certificate, same key) connects to a real OpenVPN whose server
// certificate vpnkeys issued; a user revoked in easy-rsa before the import
// is refused, and so is the older certificate of carol, whom easy-rsa 3.1's
// renew left with two valid ones (the import revoked it as superseded).
// Then the round trip: issue and revoke in vpnkeys, export, and
// easy-rsa's own commands work on the export.
func TestEasyRSAAdoption(t *testing.T) {
	for _, tc := range []struct{ algo, pass string }{{"p256", ""}, {"rsa", "adopt me"}, {"p384", "p384 pass"}} {
		t.Run(tc.algo, func(t *testing.T) {
			t.Parallel()
			testAdoption(t, tc.algo, tc.pass)
		})
	}
}

func testAdoption(t *testing.T, algo, pass string) {
	ns := newNetns(t)
	openssl := testenv.OpenSSL(t)
	ctx := context.Background()
	er := easyrsatest.New(t, algo, pass)
	for _, u := range []string{"alice", "bob", "carol"} {
		er.Run(t, "build-client-full", u, "nopass")
	}
	er.Run(t, "revoke", "bob", "keyCompromise")
	er.Run(t, "--renew-days=3000", "renew", "carol", "nopass")
	er.Run(t, "gen-crl")
	ta := filepath.Join(t.TempDir(), "ta.key")
	if out, err := exec.Command(testenv.OpenVPN(t), "--genkey", "tls-crypt", ta).CombinedOutput(); err != nil {
		t.Fatalf("genkey: %v %s", err, out)
	}
	taBytes, _ := os.ReadFile(ta)

	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := authority.New(db, authority.Options{DataDir: dir, AgentRunDir: runDir(t)})
	sum, err := a.ImportEasyRSA(ctx, er.Dir, authority.ImportOptions{AskPassphrase: func() (authority.Passphrase, error) { return authority.Passphrase(pass), nil }, TLSCrypt: taBytes})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Users != 3 || sum.Revoked != 1 || sum.KeysKept != 4 || len(sum.Retired) != 1 || sum.Retired[0].User != "carol" {
		t.Fatalf("import summary: got %+v, want 3 users, 1 revoked, 4 keys, carol's older certificate retired", sum)
	}
	users, _, err := a.List(ctx, authority.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, u := range users {
		status[u.Name] = u.Status
	}
	if status["alice"] != "active" || status["bob"] != "revoked" || status["carol"] != "active" {
		t.Fatalf("statuses after import: got %v", status)
	}
	// A second vpnkeys process unlocks the adopted CA with the same passphrase.
	if err := authority.New(db, authority.Options{DataDir: dir}).Unlock(ctx, pki.Passphrase(pass)); err != nil {
		t.Fatalf("unlocking the adopted CA: %v", err)
	}

	if _, err := a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "127.0.0.1:11942"}); err != nil {
		t.Fatal(err)
	}
	srvDir := filepath.Join(dir, "server")
	if err := a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	traversable(t, srvDir)
	out := filepath.Join(dir, "bundles")
	res, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	easyCert, _ := os.ReadFile(filepath.Join(er.Dir, "issued", "alice.crt"))
	c, _ := pki.ParseCert(easyCert)
	if res[0].Issued || res[0].Serial != pki.SerialHex(c.SerialNumber) {
		t.Fatalf("alice was re-issued: got %+v, want easy-rsa's serial %s kept", res[0], pki.SerialHex(c.SerialNumber))
	}
	srv := ns.startServer(t, srvDir)
	if ok, log := ns.connect(t, filepath.Join(out, "alice", "alice.ovpn")); !ok {
		t.Fatalf("imported alice could not connect:\n%s\nserver:\n%s", log, srv.Log())
	}
	// bob was revoked in easy-rsa; vpnkeys re-issues nothing for him unless
	// asked, so his old easy-rsa profile is what he has: build it by hand.
	bobDir := t.TempDir()
	revoked, _ := filepath.Glob(filepath.Join(er.Dir, "revoked", "certs_by_serial", "*.crt"))
	if len(revoked) != 1 {
		t.Fatalf("easy-rsa's revoked certificates: got %v, want bob's only", revoked)
	}
	bobSerial := strings.TrimSuffix(filepath.Base(revoked[0]), ".crt")
	alice := string(mustRead(t, filepath.Join(out, "alice", "alice.ovpn")))
	bob := profileWith(t, bobDir, "bob", alice, filepath.Join(er.Dir, "revoked", "certs_by_serial", bobSerial+".crt"),
		filepath.Join(er.Dir, "revoked", "private_by_serial", bobSerial+".key"))
	if ok, log := ns.connect(t, bob); ok {
		t.Fatalf("bob, revoked in easy-rsa, connected:\n%s", log)
	}
	if srv.WaitFor(5*time.Second, "certificate revoked") == "" {
		t.Fatalf("server did not log 'certificate revoked' for bob:\n%s", srv.Log())
	}
	// carol's older certificate, its key kept by easy-rsa's renew, is on
	// the CRL the import signed although carol herself is active.
	carolOld := profileWith(t, t.TempDir(), "carol", alice, filepath.Join(er.Dir, "renewed", "issued", "carol.crt"),
		filepath.Join(er.Dir, "renewed", "private", "carol.key"))
	if ok, log := ns.connect(t, carolOld); ok {
		t.Fatalf("carol's older certificate, superseded on import, connected:\n%s", log)
	}

	// Round trip: issue dave and revoke carol in vpnkeys, export, and run
	// easy-rsa's own commands on the export.
	if _, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "dave"}}, authority.AddOptions{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, "carol", "affiliation-changed"); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "export")
	if _, err := a.ExportEasyRSA(ctx, exp); err != nil {
		t.Fatal(err)
	}
	back := easyrsatest.Open(t, exp, pass)
	if out := back.Run(t, "show-cert", "dave"); !strings.Contains(out, "= dave") {
		t.Fatalf("show-cert dave:\n%s", out)
	}
	back.Run(t, "revoke", "alice", "cessationOfOperation")
	back.Run(t, "gen-crl")
	back.Run(t, "build-client-full", "erin", "nopass")
	if o, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(exp, "ca.crt"), filepath.Join(exp, "issued", "erin.crt")).CombinedOutput(); err != nil {
		t.Fatalf("openssl verify erin: %v\n%s", err, o)
	}
	crl, err := exec.Command(openssl, "crl", "-in", filepath.Join(exp, "crl.pem"), "-CAfile", filepath.Join(exp, "ca.crt"), "-noout", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(crl), "verify OK") {
		t.Fatalf("openssl crl: %v\n%s", err, crl)
	}
	for _, who := range []string{"alice", "bob", "carol"} {
		serial := serialOf(t, a, who)
		if !strings.Contains(string(crl), serial) {
			t.Errorf("easy-rsa's CRL lacks %s (%s)", who, serial)
		}
	}
}

// profileWith writes dir/name.ovpn: profile with its certificate and key
// replaced by the files given.
func profileWith(t *testing.T, dir, name, profile, certFile, keyFile string) string {
	t.Helper()
	p := strings.Replace(profile, between(profile, "<cert>\n", "</cert>"), string(mustRead(t, certFile)), 1)
	p = strings.Replace(p, between(p, "<key>\n", "</key>"), string(mustRead(t, keyFile)), 1)
	f := filepath.Join(dir, name+".ovpn")
	if err := os.WriteFile(f, []byte(p), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func serialOf(t *testing.T, a *authority.Authority, user string) string {
	t.Helper()
	d, err := a.Show(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return d.Serial
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(start) : j]
}
