package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// Staged is a user's bundle written beside its final place, not yet in it.
type Staged struct {
	outDir, user string
	tmp          string // the folder being built
	archives     map[string]string
}

const tmpMark = ".vpnkeys-tmp-"

// Stage writes the bundle folder and archives of user under outDir with
// temporary names. Nothing is visible under the final names until Commit;
// a Staged that is not committed must be aborted.
func Stage(outDir, user string, files []File, mtime time.Time) (_ *Staged, err error) {
	if err := safefile.MkdirAll(outDir); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(outDir, "."+user+tmpMark+"*")
	if err != nil {
		return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
	}
	s := &Staged{outDir: outDir, user: user, tmp: tmp, archives: map[string]string{}}
	defer func() {
		if err != nil {
			s.Abort()
		}
	}()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.Name), f.Data, f.Mode); err != nil {
			return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
		}
	}
	tgz, zipped, err := Archives(user, files, mtime)
	if err != nil {
		return nil, err
	}
	for ext, data := range map[string][]byte{".tar.gz": tgz, ".zip": zipped} {
		p := filepath.Join(outDir, "."+user+ext+tmpMark+filepath.Base(tmp))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
		}
		s.archives[ext] = p
	}
	return s, nil
}

// RemoveLeftovers deletes what killed runs staged under outDir and never
// committed (it holds plain keys). Only entries older than age go, so a
// concurrent vpnkeys process's staging is left alone. Call it once per run,
// not per bundle: it reads the whole folder.
func RemoveLeftovers(outDir string, age time.Duration) {
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-age)
	for _, e := range entries {
		if !strings.Contains(e.Name(), tmpMark) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(outDir, e.Name()))
		}
	}
}

// Abort removes what Stage wrote.
func (s *Staged) Abort() {
	os.RemoveAll(s.tmp)
	for _, p := range s.archives {
		os.Remove(p)
	}
}

// Commit makes the staged bundles durable with one syncfs and moves each
// into place: the folder with an atomic exchange, then the archives. A
// bundle whose move fails is aborted and reported; the others still land.
func Commit(staged []*Staged) error {
	if len(staged) == 0 {
		return nil
	}
	if err := syncFS(staged[0].outDir); err != nil {
		for _, s := range staged {
			s.Abort()
		}
		return err
	}
	var errs []error
	dirs := map[string]bool{}
	for _, s := range staged {
		if err := s.move(); err != nil {
			s.Abort()
			errs = append(errs, err)
		}
		dirs[s.outDir] = true
	}
	for d := range dirs {
		if err := safefile.SyncDir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Staged) move() error {
	final := filepath.Join(s.outDir, s.user)
	if err := swapDir(s.tmp, final); err != nil {
		return fmt.Errorf("installing bundle of %s: %w", s.user, err)
	}
	// s.tmp now holds the previous bundle, if there was one.
	os.RemoveAll(s.tmp)
	for ext, p := range s.archives {
		if err := os.Rename(p, filepath.Join(s.outDir, s.user+ext)); err != nil {
			return fmt.Errorf("installing bundle of %s: %w", s.user, err)
		}
	}
	return nil
}

// swapDir puts the folder src at dst. When dst exists the two are exchanged
// in one step (renameat2 RENAME_EXCHANGE), so dst is always a whole bundle;
// src then holds the old one.
func swapDir(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		return os.Rename(src, dst)
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// No exchange on this filesystem: move the old one aside first.
		old := src + ".old"
		if err := os.Rename(dst, old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			os.Rename(old, dst)
			return err
		}
		return os.Rename(old, src)
	}
	return err
}

func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing bundles: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncing bundles: %w", err)
	}
	return nil
}
