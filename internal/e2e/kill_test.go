package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestKilledAddLeavesNothingUnrecorded kills the real binary with SIGKILL
// while a bulk add stages bundles (keys and certificates on disk, not yet
// in place), then checks that every certificate found on disk is in the
// database; that the next runs remove what the killed one staged while two
// concurrent adds on the same database both succeed; and that the
// certificates the killed run never handed out end on the CRL once
// abandoned.
func TestKilledAddLeavesNothingUnrecorded(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	const pass = "kill e2e passphrase"
	env := []string{"VPNKEYS_DATA=" + data, "VPNKEYS_CA_PASSPHRASE=" + pass}
	mustRun(t, env, "init")
	mustRun(t, env, "server", "add", "dc1", "--remote", "127.0.0.1:11942/udp")
	bundles := filepath.Join(data, "bundles")
	killDuringStaging(t, env, bundles, users("k", 1500))

	onDisk := certsUnder(t, bundles)
	if len(onDisk) == 0 {
		t.Fatal("the killed run left no certificate on disk: the test lost its premise")
	}
	db, err := store.Open(context.Background(), filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	states := map[string]string{}
	all, err := db.Q().AllCerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		states[c.Serial] = c.State
	}
	var pending []string
	for serial, path := range onDisk {
		st, ok := states[serial]
		if !ok {
			t.Errorf("certificate %s in %s is not in the database", serial, path)
		}
		if st == store.StatePending {
			pending = append(pending, serial)
		}
	}
	if len(pending) == 0 {
		// The kill landed after the batch was handed out: the invariant
		// above still held; TestAbandonedPendingRevoked covers the rest.
		t.Log("no certificate left pending on disk: the kill came after the hand-out")
	}

	// Two adds at once: both succeed; the killed run's staging goes.
	var wg sync.WaitGroup
	for _, prefix := range []string{"v", "w"} {
		wg.Add(1)
		go func() { defer wg.Done(); mustRun(t, env, append([]string{"add"}, users(prefix, 300)...)...) }()
	}
	wg.Wait()
	left, _ := filepath.Glob(filepath.Join(bundles, ".vpnkeys-*"))
	if len(left) != 0 {
		t.Errorf("staging left behind: %v", left)
	}

	// Ten minutes on, the killed run's pending certificates are abandoned:
	// the next onboarding revokes them.
	a := authority.New(db, authority.Options{DataDir: data, Now: func() time.Time { return time.Now().Add(11 * time.Minute) }})
	if err := a.Unlock(context.Background(), []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddUsers(context.Background(), []authority.UserRequest{{Name: "late"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	crl, err := a.CRL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(crl.PEM)
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		listed[pki.SerialHex(e.SerialNumber)] = true
	}
	for _, s := range pending {
		if !listed[s] {
			t.Errorf("abandoned certificate %s is not on the CRL", s)
		}
	}
}

func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// killDuringStaging starts `vpnkeys add names...` and kills it with
// SIGKILL as soon as its staging folder holds a certificate.
func killDuringStaging(t *testing.T, env []string, bundles string, names []string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"add"}, names...)...)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if staged, _ := filepath.Glob(filepath.Join(bundles, ".vpnkeys-staging-*", "*", "*.crt")); len(staged) > 0 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return
		}
		select {
		case err := <-done:
			t.Fatalf("add finished (%v) before it could be killed while staging", err)
		case <-time.After(time.Millisecond):
		}
	}
	cmd.Process.Kill()
	t.Fatal("no staged certificate appeared within 60 s")
}

// certsUnder maps the serial of every certificate file under dir to its
// path.
func certsUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".crt") || filepath.Base(p) == "ca.crt" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil // removed meanwhile
		}
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				out[pki.SerialHex(c.SerialNumber)] = p
			}
		}
		return nil
	})
	return out
}

// TestKilledRevokeRepairedByRevokingAgain kills the real binary with
// SIGKILL right after its revocation committed, while it refreshes the
// crl.pem of many server folders: some keep the old CRL. Running the same
// revoke again publishes the newest CRL to every one of them.
func TestKilledRevokeRepairedByRevokingAgain(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	env := []string{"VPNKEYS_DATA=" + data, "VPNKEYS_CA_PASSPHRASE=kill revoke passphrase"}
	mustRun(t, env, "init")
	mustRun(t, env, "server", "add", "dc1", "--remote", "127.0.0.1:11942/udp")
	first := filepath.Join(base, "srv", "0")
	mustRun(t, env, "server", "files", "dc1", "--out", first)
	mustRun(t, env, "add", "alice")
	stale, err := os.ReadFile(filepath.Join(first, "crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	// Many folders of this host, so publishing takes long enough to be
	// interrupted (each crl.pem is written with fsync).
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	host, _ := os.Hostname()
	dirs := []string{first}
	for i := 1; i < 150; i++ {
		d := filepath.Join(base, "srv", fmt.Sprint(i))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "crl.pem"), stale, 0o644)
		if err := db.Q().RecordServerOutput(ctx, store.ServerOutput{Server: "dc1", Host: host, Dir: d, WrittenAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	before, _ := db.Q().GetCRL(ctx)

	cmd := exec.Command(binary(t), "revoke", "alice")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c, err := db.Q().GetCRL(ctx); err == nil && c.Number > before.Number {
			break // committed
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	staleLeft := 0
	for _, d := range dirs {
		if b, _ := os.ReadFile(filepath.Join(d, "crl.pem")); string(b) == string(stale) {
			staleLeft++
		}
	}
	if staleLeft == 0 {
		t.Fatal("the kill came after every crl.pem was refreshed: the test lost its premise")
	}
	out := mustRun(t, env, "revoke", "alice")
	if !strings.Contains(out, "already revoked") {
		t.Errorf("revoke again: got %q, want it to say alice was already revoked", out)
	}
	newest, _ := db.Q().GetCRL(ctx)
	want := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: newest.DER})
	for _, d := range dirs {
		if b, _ := os.ReadFile(filepath.Join(d, "crl.pem")); string(b) != string(want) {
			t.Fatalf("%s/crl.pem is not the newest CRL after revoking again (%d were stale after the kill)", d, staleLeft)
		}
	}
	t.Logf("%d of %d folders were stale after the kill; all repaired", staleLeft, len(dirs))
}
