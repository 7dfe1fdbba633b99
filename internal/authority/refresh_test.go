package authority

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// refreshFixture has servers dc1 and dc2; alice and bob with bundle
// folders, carol without one (NoBundles), dave revoked, with a folder of
// someone else's making that a refresh must leave alone.
func refreshFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194/udp")
	f.addServer(t, "dc2", "vpn2.example.com:443/tcp")
	f.add(t, AddOptions{}, "alice", "bob", "dave")
	f.add(t, AddOptions{NoBundles: true}, "carol")
	if _, err := f.a.Revoke(context.Background(), "dave", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	dir := f.a.BundleDir()
	os.MkdirAll(filepath.Join(dir, "dave"), 0o700)
	os.WriteFile(filepath.Join(dir, "dave", "marker"), []byte("x"), 0o600)
	return f, dir
}

// certState is what a refresh must not change: serials, certificate
// rows, the CRL number.
func certState(t *testing.T, f *fixture) (serials map[string]string, rows int, crl int64) {
	t.Helper()
	ctx := context.Background()
	serials = map[string]string{}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		d, err := f.a.Show(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		serials[u], rows = d.Serial, rows+len(d.Certificates)
	}
	info, err := f.a.CRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return serials, rows, info.Number
}

func TestRefreshBundlesTLSMode(t *testing.T) {
	ctx := context.Background()
	for _, umask := range []int{0o077, 0o022} {
		t.Run(fmt.Sprintf("ok/umask-%03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			f, dir := refreshFixture(t)
			var hooked []RefreshResult
			f.a.opts.OnRefresh = func(r RefreshResult, err error) {
				if err != nil {
					t.Errorf("OnRefresh: %v", err)
				}
				hooked = append(hooked, r)
			}
			key := readFile(t, filepath.Join(dir, "alice", "alice.key"))
			serials, rows, crl := certState(t, f)

			if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", TLSMode: "tls-auth"}); err != nil {
				t.Fatal(err)
			}
			if len(hooked) != 1 || hooked[0].Refreshed != 2 || hooked[0].Skipped != 1 || len(hooked[0].Failed) != 0 {
				t.Fatalf("after the switch: got %+v, want one refresh of 2 folders, 1 skipped", hooked)
			}
			for _, u := range []string{"alice", "bob"} {
				p := readFile(t, filepath.Join(dir, u, u+"-tls-auth.ovpn"))
				if !bytes.Contains(p, []byte("remote vpn2.example.com 443 tcp")) || bytes.Contains(p, []byte("vpn1.example.com")) {
					t.Errorf("%s-tls-auth.ovpn: got\n%s\nwant dc2 alone", u, p)
				}
				if p := readFile(t, filepath.Join(dir, u, u+".ovpn")); bytes.Contains(p, []byte("vpn2.example.com")) {
					t.Errorf("%s.ovpn still lists dc2", u)
				}
			}
			if got := readFile(t, filepath.Join(dir, "alice", "alice.key")); !bytes.Equal(got, key) {
				t.Error("alice.key changed: got a new key, want the kept one")
			}
			for name, want := range map[string]os.FileMode{
				"alice": 0o700, "alice/alice.key": 0o600, "alice/alice.ovpn": 0o600, "alice/alice-tls-auth.ovpn": 0o600, "alice/ca.crt": 0o644,
			} {
				if got := mode(t, filepath.Join(dir, name)); got != want {
					t.Errorf("%s: got mode %o, want %o", name, got, want)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "carol")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("carol, without a folder: got %v, want no folder", err)
			}
			if ents, _ := os.ReadDir(filepath.Join(dir, "dave")); len(ents) != 1 || ents[0].Name() != "marker" {
				t.Errorf("revoked dave's folder: got %v, want the marker alone", ents)
			}
			s2, rows2, crl2 := certState(t, f)
			if !maps.Equal(serials, s2) || rows2 != rows || crl2 != crl {
				t.Errorf("got serials %v, %d certificates, CRL #%d; want %v, %d, #%d", s2, rows2, crl2, serials, rows, crl)
			}
			if ev, _ := f.a.Audit(ctx, AuditFilter{Action: "bundles.refresh"}); len(ev) != 1 {
				t.Errorf("got %d bundles.refresh events, want 1", len(ev))
			}

			// Back to tls-crypt: the tls-auth profile goes.
			if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", TLSMode: "tls-crypt"}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "alice", "alice-tls-auth.ovpn")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("alice-tls-auth.ovpn after the switch back: got %v, want gone", err)
			}
			if p := readFile(t, filepath.Join(dir, "alice", "alice.ovpn")); !bytes.Contains(p, []byte("remote vpn2.example.com 443 tcp")) {
				t.Errorf("alice.ovpn after the switch back: got\n%s\nwant dc2 in it", p)
			}
			// A subnet change touches no profile: no refresh.
			if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", Subnet: "10.9.0.0/16"}); err != nil {
				t.Fatal(err)
			}
			if len(hooked) != 2 {
				t.Errorf("got %d refreshes after a subnet change, want 2 (none for it)", len(hooked))
			}
		})
	}
}

func TestRefreshBundlesAfter(t *testing.T) {
	ctx := context.Background()
	f, dir := refreshFixture(t)
	certs := func() int {
		return strings.Count(string(readFile(t, filepath.Join(dir, "alice", "ca.crt"))), "BEGIN CERTIFICATE")
	}
	steps := []struct {
		name  string
		do    func() error
		check func(t *testing.T)
	}{
		{"ok/server-add", func() error { f.addServer(t, "dc3", "vpn3.example.com:1194/udp"); return nil }, func(t *testing.T) {
			if p := readFile(t, filepath.Join(dir, "bob", "bob.ovpn")); !bytes.Contains(p, []byte("remote vpn3.example.com 1194 udp")) {
				t.Errorf("bob.ovpn: got\n%s\nwant a remote line for dc3", p)
			}
		}},
		{"ok/server-remove", func() error { _, err := f.a.RemoveServer(ctx, "dc1"); return err }, func(t *testing.T) {
			if p := readFile(t, filepath.Join(dir, "bob", "bob.ovpn")); bytes.Contains(p, []byte("vpn1.example.com")) {
				t.Errorf("bob.ovpn still lists dc1:\n%s", p)
			}
		}},
		{"ok/rollover-start", func() error { _, err := f.a.StartRollover(ctx, DefaultCADays+10); return err }, func(t *testing.T) {
			if n := certs(); n != 2 {
				t.Errorf("ca.crt during a rollover: got %d certificates, want 2", n)
			}
		}},
		{"ok/rollover-finish", func() error { _, err := f.a.FinishRollover(ctx); return err }, func(t *testing.T) {
			if n := certs(); n != 1 {
				t.Errorf("ca.crt after the rollover: got %d certificates, want 1", n)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			s.check(t)
		})
	}
	if ev, _ := f.a.Audit(ctx, AuditFilter{Action: "bundles.refresh"}); len(ev) != len(steps) {
		t.Errorf("got %d bundles.refresh events, want %d", len(ev), len(steps))
	}
}

// TestRefreshBundlesLocked: a process without the CA changes the servers;
// the folders stay as they were and the caller is told how many wait.
func TestRefreshBundlesLocked(t *testing.T) {
	ctx := context.Background()
	f, dir := refreshFixture(t)
	locked := f.reopen()
	var got RefreshResult
	locked.opts.OnRefresh = func(r RefreshResult, err error) { got = r }
	before := readFile(t, filepath.Join(dir, "alice", "alice.ovpn"))
	if _, err := locked.SetServer(ctx, ServerChange{Name: "dc2", TLSMode: "tls-auth"}); err != nil {
		t.Fatal(err)
	}
	if !got.Locked || got.Pending != 2 {
		t.Errorf("got %+v, want Locked with 2 pending", got)
	}
	if n, err := locked.BundlesToRefresh(ctx); n != 2 || err != nil {
		t.Errorf("BundlesToRefresh: got %d, %v, want 2", n, err)
	}
	if after := readFile(t, filepath.Join(dir, "alice", "alice.ovpn")); !bytes.Equal(after, before) {
		t.Error("a locked process rewrote alice.ovpn")
	}
	res, err := f.a.RefreshBundles(ctx)
	if err != nil || res.Refreshed != 2 {
		t.Fatalf("RefreshBundles by hand: got %+v, %v, want 2 refreshed", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "alice", "alice-tls-auth.ovpn")); err != nil {
		t.Errorf("alice-tls-auth.ovpn after the refresh by hand: %v", err)
	}
}

// TestRefreshBundlesFault: bob's folder cannot be replaced (it is a mount
// point, which no rename moves, root or not); alice is refreshed all the
// same, and bob keeps his old folder whole.
func TestRefreshBundlesFault(t *testing.T) {
	if !testenv.IsRoot() {
		testenv.Missing(t, "mounting a tmpfs needs root")
	}
	ctx := context.Background()
	f, dir := refreshFixture(t)
	bob := filepath.Join(dir, "bob")
	before := readDir(t, bob)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", bob).CombinedOutput(); err != nil {
		testenv.Missing(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", bob).Run() })
	for name, data := range before {
		os.WriteFile(filepath.Join(bob, name), data, 0o600)
	}
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", TLSMode: "tls-auth"}); err != nil {
		t.Fatalf("SetServer: got %v, want the change made whatever the folders", err)
	}
	res, err := f.a.RefreshBundles(ctx)
	if err == nil || !slices.Equal(res.Failed, []string{"bob"}) || res.Refreshed != 1 {
		t.Fatalf("got %+v, %v; want alice refreshed, bob failed", res, err)
	}
	t.Logf("bob: %v", err)
	if _, err := os.Stat(filepath.Join(dir, "alice", "alice-tls-auth.ovpn")); err != nil {
		t.Errorf("alice: %v", err)
	}
	after := readDir(t, bob)
	if len(after) != len(before) {
		t.Errorf("bob's folder: got %d files, want the %d it had", len(after), len(before))
	}
	for name, data := range before {
		if !bytes.Equal(after[name], data) {
			t.Errorf("bob/%s changed", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".vpnkeys-*")); len(left) != 0 {
		t.Errorf("staging left behind: %v", left)
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		out[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return out
}
