package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrNoFolder is what Replace says when the user's bundle folder is gone
// (removed since the refresh began): a refresh never brings one back.
var ErrNoFolder = errors.New("no bundle folder to replace")

// Sync makes staged bundles durable with one syncfs, before any of them
// is moved into place with Replace; on failure every one is aborted.
func Sync(staged []*Staged) error {
	if len(staged) == 0 {
		return nil
	}
	if err := syncFS(staged[0].outDir); err != nil {
		for _, s := range staged {
			s.Abort()
		}
		return err
	}
	return nil
}

// Replace exchanges the user's existing bundle folder for the staged one
// in one step (renameat2 RENAME_EXCHANGE), so a crash leaves the old
// folder or the new one, never a mix, and files the new bundle lacks (a
// profile no longer rendered) go with the old folder; then it moves the
// archives over the old ones. Unlike Commit it never creates a folder:
// when there is none (ErrNoFolder), or the exchange fails, the staged
// bundle is aborted and what is in place stays untouched. Call Sync
// first, and safefile.SyncDir on the bundles folder after the last one.
func (s *Staged) Replace() error {
	final := filepath.Join(s.outDir, s.user)
	err := unix.Renameat2(unix.AT_FDCWD, s.tmp, unix.AT_FDCWD, final, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// No exchange on this filesystem: swapDir moves the old one aside.
		if fi, serr := os.Lstat(final); serr != nil || !fi.IsDir() {
			err = unix.ENOENT
		} else {
			err = swapDir(s.tmp, final)
		}
	}
	if errors.Is(err, unix.ENOENT) {
		s.Abort()
		return fmt.Errorf("replacing bundle of %s: %w", s.user, ErrNoFolder)
	}
	if err != nil {
		s.Abort()
		return fmt.Errorf("replacing bundle of %s: %w", s.user, err)
	}
	os.RemoveAll(s.tmp) // the previous bundle now
	for ext, p := range s.archives {
		if err := os.Rename(p, filepath.Join(s.outDir, s.user+ext)); err != nil {
			s.Abort()
			return fmt.Errorf("replacing bundle of %s: %w", s.user, err)
		}
	}
	return nil
}
