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

// Staging is one run's private folder beside the bundles, where bundles
// are built before they are moved into place. The run holds an advisory
// lock (flock) on it for as long as it lives, so another run can tell a
// live staging folder from one a killed run left behind, whatever their
// ages: a leftover is removed, a live one is never touched.
type Staging struct {
	outDir string
	dir    string
	lock   *os.File
}

const (
	stagingPrefix = ".vpnkeys-staging-"
	freshPrefix   = ".vpnkeys-new-" // being made and locked: see NewStaging
	tmpMark       = ".vpnkeys-tmp-" // staging of vpnkeys before 0.2, age-based
	legacyAge     = 10 * time.Minute
)

// NewStaging removes what killed runs left under outDir and opens this
// run's staging folder there (outDir is created 0700 when missing). Close
// it when the run ends.
func NewStaging(outDir string) (*Staging, error) {
	if err := safefile.MkdirAll(outDir); err != nil {
		return nil, err
	}
	RemoveLeftovers(outDir)
	// The folder is made and locked under a name RemoveLeftovers does not
	// judge by its lock, then renamed: another run never sees a staging
	// folder that is not locked yet (it would take it for a leftover).
	fresh, err := os.MkdirTemp(outDir, freshPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating staging folder: %w", err)
	}
	lock, err := lockDir(fresh, true)
	if err != nil {
		os.RemoveAll(fresh)
		return nil, fmt.Errorf("locking staging folder: %w", err)
	}
	dir := filepath.Join(outDir, stagingPrefix+strings.TrimPrefix(filepath.Base(fresh), freshPrefix))
	if err := os.Rename(fresh, dir); err != nil {
		lock.Close()
		os.RemoveAll(fresh)
		return nil, fmt.Errorf("creating staging folder: %w", err)
	}
	return &Staging{outDir: outDir, dir: dir, lock: lock}, nil
}

// Close removes the staging folder and whatever is still in it.
func (st *Staging) Close() error {
	err := os.RemoveAll(st.dir)
	st.lock.Close()
	return err
}

// lockDir opens dir and takes an exclusive flock on it; with wait false it
// fails at once (unix.EWOULDBLOCK) when another process holds it.
func lockDir(dir string, wait bool) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// RemoveLeftovers deletes the staging folders under outDir that no live
// vpnkeys process holds: a killed run's bundles, plain keys included. The
// certificates in them are on record (see authority), and revoked once
// abandoned. Call it once per run: it reads the whole folder.
func RemoveLeftovers(outDir string) {
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-legacyAge)
	for _, e := range entries {
		p := filepath.Join(outDir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), stagingPrefix):
			lock, err := lockDir(p, false)
			if err != nil {
				continue // alive, or gone already
			}
			os.RemoveAll(p)
			lock.Close()
		case strings.HasPrefix(e.Name(), freshPrefix), strings.Contains(e.Name(), tmpMark):
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
				os.RemoveAll(p)
			}
		}
	}
}

// Staged is a user's bundle written into a Staging folder, not yet in its
// place.
type Staged struct {
	outDir, user string
	tmp          string // the folder being built
	archives     map[string]string
}

// Stage writes the bundle folder and archives of user into the staging
// folder. Nothing is visible under the final names until Commit; a Staged
// that is not committed must be aborted.
func (st *Staging) Stage(user string, files []File, mtime time.Time) (_ *Staged, err error) {
	tmp := filepath.Join(st.dir, user)
	if err := os.Mkdir(tmp, safefile.DirMode); err != nil {
		return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
	}
	s := &Staged{outDir: st.outDir, user: user, tmp: tmp, archives: map[string]string{}}
	defer func() {
		if err != nil {
			s.Abort()
		}
	}()
	if err := os.Chmod(tmp, safefile.DirMode); err != nil { // whatever the umask
		return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
	}
	for _, f := range files {
		p := filepath.Join(tmp, f.Name)
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
		}
		if err := os.Chmod(p, f.Mode); err != nil { // the mode promised, whatever the umask
			return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
		}
	}
	tgz, zipped, err := Archives(user, files, mtime)
	if err != nil {
		return nil, err
	}
	for ext, data := range map[string][]byte{".tar.gz": tgz, ".zip": zipped} {
		p := tmp + ext
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, fmt.Errorf("staging bundle of %s: %w", user, err)
		}
		s.archives[ext] = p
	}
	return s, nil
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
	if err := Sync(staged); err != nil {
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

// removeAll is os.RemoveAll tried three times: a bundle folder being
// replaced at the same moment (renameat2 exchange) can make one pass fail
// with "directory not empty".
func removeAll(p string) error {
	var err error
	for range 3 {
		if err = os.RemoveAll(p); err == nil {
			return nil
		}
	}
	return err
}

// Remove deletes user's bundle folder and archives from outDir (a revoked
// user's private key must not stay on disk). It reports what it removed.
func Remove(outDir, user string) ([]string, error) {
	var removed []string
	var errs []error
	for _, name := range []string{user, user + ".tar.gz", user + ".zip"} {
		p := filepath.Join(outDir, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := removeAll(p); err != nil {
			errs = append(errs, fmt.Errorf("removing bundle of %s: %w", user, err))
			continue
		}
		removed = append(removed, p)
	}
	if len(removed) > 0 {
		if err := safefile.SyncDir(outDir); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
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
