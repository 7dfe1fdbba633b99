package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs the real binary under umask 027, as a hardened host would, and
// returns its exit code, stdout and stderr.
func run(t testing.TB, env []string, args ...string) (int, string, string) {
	t.Helper()
	// The arguments reach the binary as positional parameters, never
	// through the script text.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `umask 027; exec "$@"`, "sh", binary(t)}, args...)...)
	cmd.Env = append(os.Environ(), withRunDir(t, env)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func mustRun(t testing.TB, env []string, args ...string) string {
	t.Helper()
	code, out, errs := run(t, env, args...)
	if code != 0 {
		t.Fatalf("vpnkeys %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// keep copies a profile aside, as someone who had it would: revoking
// removes the bundle from the bundles folder.
func keep(t testing.TB, profile string) string {
	t.Helper()
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(profile))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRevokeReachesOpenVPN drives the real binary under umask 027 against
// a real OpenVPN 2.6 that drops to nobody:
//   - `server files` creates the server folder 0755 whatever the umask, so
//     OpenVPN can re-read crl.pem (under 0750 it logs "Failed to stat CRL
//     file" and a revoked user still connects);
//   - a revoke whose crl.pem write failed after its commit leaves the old
//     CRL in force; running the same revoke again publishes the new one
//     and the user is refused, while another user still connects;
//   - a server folder OpenVPN cannot read is reported.
func TestRevokeReachesOpenVPN(t *testing.T) {
	ns := newNetns(t)
	base := t.TempDir()
	traversable(t, base)
	data := filepath.Join(base, "data")
	env := []string{"VPNKEYS_DATA=" + data, "VPNKEYS_CA_PASSPHRASE=revoke e2e passphrase"}
	mustRun(t, env, "init")
	mustRun(t, env, "server", "add", "dc1", "--remote", "127.0.0.1:11942/udp")
	srvDir := filepath.Join(base, "etc", "openvpn", "server")
	mustRun(t, env, "server", "files", "dc1", "--out", srvDir)
	for _, d := range []string{filepath.Join(base, "etc"), filepath.Join(base, "etc", "openvpn"), srvDir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("%s: got %v %v, want mode 0755 under umask 027", d, fi.Mode(), err)
		}
	}
	mustRun(t, env, "add", "alice", "bob")
	alice := keep(t, filepath.Join(data, "bundles", "alice", "alice.ovpn"))
	bob := filepath.Join(data, "bundles", "bob", "bob.ovpn")
	srv := ns.startServer(t, srvDir)
	if ok, log := ns.connect(t, alice); !ok {
		t.Fatalf("alice could not connect:\n%s\nserver:\n%s", log, srv.Log())
	}

	// The revoke commits, then cannot replace crl.pem (as if it died
	// before it wrote anything: alice's client-config file, which the
	// revoke removes and ccd-exclusive then refuses her without, is put
	// back).
	crl := filepath.Join(srvDir, "crl.pem")
	stale, _ := os.ReadFile(crl)
	ccd := filepath.Join(srvDir, "ccd", "alice")
	ccdAlice, err := os.ReadFile(ccd)
	if err != nil {
		t.Fatalf("server folder: %v (`vpnkeys add` writes each user's client-config file)", err)
	}
	os.Remove(crl)
	os.MkdirAll(filepath.Join(crl, "blocked"), 0o755)
	code, out, errs := run(t, env, "revoke", "alice", "--reason", "key-compromise")
	if code == 0 || !strings.Contains(errs, "crl.pem") {
		t.Fatalf("revoke with crl.pem blocked: exit %d\n%s%s, want a crl.pem failure", code, out, errs)
	}
	os.RemoveAll(crl)
	os.WriteFile(crl, stale, 0o644)
	os.WriteFile(ccd, ccdAlice, 0o644)
	if ok, _ := ns.connect(t, alice); !ok {
		t.Fatal("with the stale CRL alice should still connect: the test lost its premise")
	}
	out = mustRun(t, env, "revoke", "alice")
	if !strings.Contains(out, "already revoked") {
		t.Errorf("revoke again: got %q, want it to say alice was already revoked", out)
	}
	if ok, log := ns.connect(t, alice); ok {
		t.Fatalf("revoked alice connected after the CRL was republished:\n%s", log)
	}
	if srv.WaitFor(5*time.Second, "certificate revoked") == "" {
		t.Fatalf("server did not log 'certificate revoked':\n%s", srv.Log())
	}
	if strings.Contains(srv.Log(), "Failed to stat CRL") {
		t.Fatalf("OpenVPN could not read crl.pem:\n%s", srv.Log())
	}
	if ok, log := ns.connect(t, bob); !ok {
		t.Fatalf("bob could not connect:\n%s", log)
	}

	// A folder OpenVPN cannot enter is reported, not ignored.
	private := filepath.Join(base, "private")
	os.Mkdir(private, 0o700)
	code, _, errs = run(t, env, "server", "files", "dc1", "--out", filepath.Join(private, "dc1"))
	if code != 0 || !strings.Contains(errs, "cannot re-read crl.pem") || !strings.Contains(errs, private) {
		t.Fatalf("server files into a 0700 folder: exit %d, stderr %q; want a warning naming %s", code, errs, private)
	}
}

// TestServeKeepsCRL: a server folder whose crl.pem fell behind (a revoke
// that died after its commit, a folder restored from a backup) gets the
// newest CRL from a running `vpnkeys serve` within one --crl-sync period,
// without anyone revoking again.
func TestServeKeepsCRL(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	env := []string{"VPNKEYS_DATA=" + data, "VPNKEYS_CA_PASSPHRASE=serve keeps the CRL"}
	mustRun(t, env, "init")
	mustRun(t, env, "server", "add", "dc1", "--remote", "127.0.0.1:11942/udp")
	srvDir := filepath.Join(base, "srv")
	mustRun(t, env, "server", "files", "dc1", "--out", srvDir)
	mustRun(t, env, "add", "alice")
	crl := filepath.Join(srvDir, "crl.pem")
	stale, _ := os.ReadFile(crl)
	mustRun(t, env, "revoke", "alice")
	fresh, _ := os.ReadFile(crl)
	if string(fresh) == string(stale) {
		t.Fatal("revoke did not rewrite crl.pem: the test lost its premise")
	}
	os.WriteFile(crl, stale, 0o644) // as if the revoke had died before publishing
	startInstance(t, env, "--crl-sync", "200ms")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, _ := os.ReadFile(crl); string(b) == string(fresh) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not bring the server folder's crl.pem up to date")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
