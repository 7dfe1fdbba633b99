package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	for i, content := range []string{"first", "second, longer"} {
		if err := WriteFile(p, []byte(content), SecretMode); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(b) != content || fi.Mode().Perm() != 0o600 {
			t.Fatalf("write %d: %q mode %o", i, b, fi.Mode().Perm())
		}
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), []byte("x"), PublicMode); err == nil {
		t.Fatal("writing into a missing folder: nil error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := MkdirAll(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "a", "b")); fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %o", fi.Mode().Perm())
	}
}

// TestMkdirAllModeUmask: folders get the promised mode under a hardened
// umask (027 would make 0755 into 0750 and hide crl.pem from OpenVPN).
func TestMkdirAllModeUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	p := filepath.Join(dir, "etc", "openvpn", "server")
	if err := MkdirAllMode(p, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "etc"), filepath.Join(dir, "etc", "openvpn"), p} {
		fi, _ := os.Stat(d)
		if got := fi.Mode().Perm(); got != 0o755 {
			t.Errorf("%s: got mode %04o, want 0755", d, got)
		}
	}
	// An existing folder keeps its mode; a file where a folder goes fails.
	os.Chmod(p, 0o750)
	if err := MkdirAllMode(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o750 {
		t.Errorf("existing folder changed to %04o", fi.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
	if err := MkdirAllMode(filepath.Join(dir, "f"), 0o755); err == nil {
		t.Error("a file in the way: nil error")
	}
}

func TestReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is 0700
	f := filepath.Join(dir, "crl.pem")
	os.WriteFile(f, []byte("x"), 0o644)
	os.Chmod(f, 0o644)
	if err := ReadableByOthers(f); err != nil {
		t.Fatalf("readable file: %v", err)
	}
	os.Chmod(dir, 0o750)
	err := ReadableByOthers(f)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want an error naming %s", err, dir)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(f, 0o640)
	if err := ReadableByOthers(f); err == nil {
		t.Fatal("file 0640: nil error")
	}
}
