package easyrsa

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestLoadRenewed: Debian 12's easy-rsa 3.1.0 renew moves the old
// certificate and key to renewed/issued/ and renewed/private/ and keeps its
// index.txt row valid; Load finds it by serial, with its own key.
func TestLoadRenewed(t *testing.T) {
	e := easyrsatest.New(t, "p256", "")
	e.Run(t, "build-client-full", "alice", "nopass")
	oldKey, _ := os.ReadFile(filepath.Join(e.Dir, "private", "alice.key"))
	e.Run(t, "--renew-days=3000", "renew", "alice", "nopass")
	if _, err := os.Stat(filepath.Join(e.Dir, "renewed", "issued", "alice.crt")); err != nil {
		t.Fatalf("easy-rsa's renew layout: %v", err)
	}
	p, err := Load(e.Dir, nil)
	if err != nil {
		t.Fatalf("Load: got %v, want the renewed PKI loaded", err)
	}
	if len(p.Certs) != 2 {
		t.Fatalf("got %d certificates, want 2", len(p.Certs))
	}
	old, cur := p.Certs[0], p.Certs[1]
	if old.Status != 'V' || cur.Status != 'V' || old.File != "renewed/issued/alice.crt" || cur.File != "issued/alice.crt" {
		t.Fatalf("got %c %s and %c %s, want V renewed/issued/alice.crt and V issued/alice.crt", old.Status, old.File, cur.Status, cur.File)
	}
	if !cur.Newer(old) || old.Newer(cur) {
		t.Fatalf("Newer: got the renewal not newer than the renewed certificate")
	}
	k, err := pki.ParseKey(oldKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pki.MarshalKey(k)
	if string(old.KeyPEM) != string(want) || cur.KeyPEM == nil || string(cur.KeyPEM) == string(want) {
		t.Fatalf("keys: got the old certificate's key %v, want renewed/private/alice.key; the new one's present %v", old.KeyPEM != nil, cur.KeyPEM != nil)
	}
}

// TestLoadRefusesUnsafeFiles: a link, a FIFO, a folder link or an oversized
// file in the PKI is a problem line naming its path, and Load returns (a
// FIFO does not block it).
func TestLoadRefusesUnsafeFiles(t *testing.T) {
	e := easyrsatest.New(t, "p256", "")
	e.Run(t, "build-client-full", "alice", "nopass")
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"fail/link to /dev/zero in issued", func(t *testing.T, d string) {
			must(t, os.Symlink("/dev/zero", filepath.Join(d, "issued", "zero.crt")))
		}, "issued/zero.crt: is a symbolic link"},
		{"fail/linked index.txt", func(t *testing.T, d string) {
			must(t, os.Rename(filepath.Join(d, "index.txt"), filepath.Join(d, "index.real")))
			must(t, os.Symlink("index.real", filepath.Join(d, "index.txt")))
		}, "index.txt: is a symbolic link"},
		{"fail/FIFO in private", func(t *testing.T, d string) {
			key := filepath.Join(d, "private", "alice.key")
			must(t, os.Remove(key))
			must(t, syscall.Mkfifo(key, 0o600))
		}, "private/alice.key: is not a regular file (a FIFO)"},
		{"fail/linked folder", func(t *testing.T, d string) {
			must(t, os.Rename(filepath.Join(d, "issued"), filepath.Join(d, "elsewhere")))
			must(t, os.Symlink("elsewhere", filepath.Join(d, "issued")))
		}, "issued: folder issued is a symbolic link"},
		{"fail/oversized certificate", func(t *testing.T, d string) {
			f, err := os.Create(filepath.Join(d, "issued", "big.crt"))
			must(t, err)
			must(t, f.Truncate(maxSmallFile+1))
			f.Close()
		}, "issued/big.crt: is 1048577 bytes, over the 1048576-byte limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "pki")
			if out, err := exec.Command("cp", "-a", e.Dir, d).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			tc.damage(t, d)
			done := make(chan error, 1)
			go func() { _, err := Load(d, nil); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a guard against a hang, not a measure
				t.Fatal("Load blocked on the PKI's files")
			}
			var probs ProblemsError
			if !errors.As(err, &probs) || !strings.Contains(err.Error(), "\n"+tc.want) {
				t.Fatalf("got %v, want a problem line %q", err, tc.want)
			}
		})
	}
}

func TestReadPKIFile(t *testing.T) {
	d := t.TempDir()
	must(t, os.WriteFile(filepath.Join(d, "ok"), []byte("12345"), 0o600))
	if b, err := readPKIFile(d, "ok", 5); err != nil || string(b) != "12345" {
		t.Fatalf("ok/at the limit: got %q, %v", b, err)
	}
	if _, err := readPKIFile(d, "ok", 4); err == nil || !strings.Contains(err.Error(), "over the 4-byte limit") {
		t.Fatalf("fail/over the limit: got %v", err)
	}
	if _, err := readPKIFile(d, "missing", 4); !errors.Is(err, errNotExist) {
		t.Fatalf("fail/missing: got %v, want errNotExist", err)
	}
	if _, err := readPKIFile(d, "sub/missing", 4); !errors.Is(err, errNotExist) {
		t.Fatalf("fail/missing folder: got %v, want errNotExist", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
