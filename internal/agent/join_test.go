package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestJoin: the agent trusts the control plane only through the CA whose
// fingerprint the token carries, and writes its state folder only after
// a certificate was issued.
func TestJoin(t *testing.T) {
	ca := newTestCA(t, "right CA")
	other := newTestCA(t, "other CA")
	ctx := context.Background()

	t.Run("ok/pinned CA", func(t *testing.T) {
		cp := newControlPlane(t, ca, ca, "dc1")
		dir := filepath.Join(t.TempDir(), "state")
		id, err := Join(ctx, cp.url(), ca.token(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if id.Server != "dc1" || id.URL != cp.url() {
			t.Errorf("got %+v, want dc1 at %s", id, cp.url())
		}
		checkMode(t, dir, 0o700)
		checkMode(t, filepath.Join(dir, KeyFile), 0o600)
		checkMode(t, filepath.Join(dir, IdentityFile), 0o600)
		c, err := NewClient(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.Identity() != id {
			t.Errorf("reloaded identity: got %+v, want %+v", c.Identity(), id)
		}
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
		if err != nil || !pki.IsAgent(pair.Leaf) || ca.Verify(pair.Leaf) != nil {
			t.Errorf("agent certificate: %v, want an agent certificate of the CA", err)
		}
		caPEM, _ := os.ReadFile(filepath.Join(dir, CAFile))
		if string(caPEM) != string(pki.CertPEM(ca.Cert)) {
			t.Error("ca.crt is not the pinned CA")
		}
	})

	for _, tc := range []struct {
		name  string
		cp    func(t *testing.T) *controlPlane
		token string
		kind  fault.Kind
		is    error
	}{
		{"fail/listener of another CA", func(t *testing.T) *controlPlane { return newControlPlane(t, ca, other, "dc1") }, ca.token(), fault.Unauthorized, ErrPin},
		{"fail/token of another CA", func(t *testing.T) *controlPlane { return newControlPlane(t, ca, ca, "dc1") }, other.token(), fault.Unauthorized, ErrPin},
		{"fail/certificate not for the host", func(t *testing.T) *controlPlane { return newControlPlane(t, ca, ca, "dc1", "10.9.9.9") }, ca.token(), fault.Unauthorized, ErrPin},
		{"fail/secret refused", func(t *testing.T) *controlPlane { return newControlPlane(t, ca, ca, "dc1") },
			strings.Replace(ca.token(), testSecret, strings.Repeat("x", 43), 1), fault.Unauthorized, nil},
		{"fail/not a token", func(t *testing.T) *controlPlane { return newControlPlane(t, ca, ca, "dc1") }, "vpkj1.abc", fault.Invalid, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := tc.cp(t)
			dir := filepath.Join(t.TempDir(), "state")
			_, err := Join(ctx, cp.url(), tc.token, dir, nil)
			if err == nil || fault.KindOf(err) != tc.kind || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("got %v (kind %v), want kind %v, %v", err, fault.KindOf(err), tc.kind, tc.is)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "xxxxxxxx") {
				t.Errorf("the error shows the secret: %v", err)
			}
			if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("state folder made by a failed join: %v", serr)
			}
			cp.mu.Lock()
			defer cp.mu.Unlock()
			if cp.joins != 0 {
				t.Errorf("control plane issued %d certificates, want 0", cp.joins)
			}
		})
	}

	t.Run("fail/bad URLs", func(t *testing.T) {
		for _, u := range []string{"http://127.0.0.1:1", "https://", "https://u:p@h", "https://h/x", "https://h?t=1", "::"} {
			if _, err := Join(ctx, u, ca.token(), t.TempDir(), nil); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", u, err)
			}
		}
	})
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: got mode %04o, want %04o", filepath.Base(path), got, want)
	}
}
