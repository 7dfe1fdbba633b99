package safefile

import (
	"os"
	"path/filepath"
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
