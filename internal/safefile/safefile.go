// Package safefile writes files so that a reader sees either the old content
// or the new one, never a torn mix, and so that a crash or a full disk leaves
// no half-written file behind: write to a temporary sibling, fsync, rename,
// fsync the directory.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Modes for what vpnkeys writes: secrets 0600 in 0700 folders.
const (
	SecretMode os.FileMode = 0o600
	PublicMode os.FileMode = 0o644
	DirMode    os.FileMode = 0o700
)

// WriteFile atomically replaces path with data, with mode perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that renames in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// MkdirAll creates dir and its parents with mode DirMode (0700).
func MkdirAll(dir string) error { return MkdirAllMode(dir, DirMode) }

// MkdirAllMode creates dir and the parents it lacks with exactly mode,
// whatever the process's umask (a umask of 027 would otherwise turn a
// promised 0755 into 0750). Folders that exist already keep their mode.
func MkdirAllMode(dir string, mode os.FileMode) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("creating %s: not a folder", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirAllMode(parent, mode); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, mode); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil // made concurrently
		}
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return nil
}

// ReadableByOthers tells whether a process of another user (OpenVPN runs
// as nobody after dropping privileges) can read path: every folder on the
// way must be searchable by others and the file readable by them. It
// returns nil, or an error naming the first obstacle.
func ReadableByOthers(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o004 == 0 {
		return fmt.Errorf("%s is mode %04o, not readable by others", abs, fi.Mode().Perm())
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		di, err := os.Stat(d)
		if err != nil {
			return err
		}
		if di.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("folder %s is mode %04o, not searchable by others", d, di.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
