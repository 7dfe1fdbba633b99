package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// ErrRestart wraps a failed restart command: the files are in place.
var ErrRestart = errors.New("restart command failed")

// DefaultRestartTimeout bounds the restart command.
const DefaultRestartTimeout = 2 * time.Minute

// Applier writes states into an OpenVPN server's folder.
type Applier struct {
	Dir            string // the server's folder (--dir)
	RestartCommand string // run with sh -c when a RestartFiles file changed; "" runs nothing
	RestartTimeout time.Duration
	Log            *slog.Logger
	Now            func() time.Time // nil is time.Now
	// Gate, when set, holds restarts outside the restart window
	// (restart_window.go).
	Gate *Gate
}

// Applied tells what an Apply changed.
type Applied struct {
	Changed   []string // files written
	Removed   []string // client-config files of users no longer in the state
	Restarted bool     // the restart command ran and succeeded
	Deferred  bool     // a restart is held until the restart window (Gate)
}

// ccdDir is the folder of the client-config files in the server's folder
// (server.conf's `client-config-dir ccd`).
var ccdDir = strings.TrimSuffix(agentwire.CCDPrefix, "/")

// Apply writes st's files into the folder as one change: each changed
// file goes to a temporary file beside it and is fsynced first; only when
// every one is written are they renamed into place and the folder
// fsynced. A failure before the renames (a full disk) removes the
// temporary files and leaves every old file in place. crl.pem's mtime
// always moves forward (OpenVPN reloads it only when its size or mtime in
// seconds changed). The client-config files go to ccd/ (made 0755: OpenVPN
// reads them as nobody) in the same step; those of users the state no
// longer holds are removed only after the new ones are in place. When a
// RestartFiles file changed, the restart command runs; a new crl.pem or
// client-config file never restarts OpenVPN. Validate st first.
func (ap *Applier) Apply(ctx context.Context, st agentwire.State) (Applied, error) {
	if err := safefile.MkdirAllMode(filepath.Join(ap.Dir, ccdDir), 0o755); err != nil {
		return Applied{}, err
	}
	var staged []stagedFile
	cleanup := func() {
		for _, s := range staged {
			os.Remove(s.tmp)
		}
	}
	for _, f := range st.Files {
		s, changed, err := ap.stage(f)
		if err != nil {
			cleanup()
			return Applied{}, err
		}
		if changed {
			staged = append(staged, s)
		}
	}
	ap.Gate.observe(ap.Dir) // the certificate OpenVPN runs with, before it is replaced
	var res Applied
	for i, s := range staged {
		if err := os.Rename(s.tmp, s.path); err != nil {
			for _, rest := range staged[i:] {
				os.Remove(rest.tmp)
			}
			return res, fmt.Errorf("moving %s into place: %w", s.name, err)
		}
		res.Changed = append(res.Changed, s.name)
	}
	if err := ap.syncDirs(res.Changed); err != nil {
		return res, err
	}
	removed, err := ap.removeStale(st)
	res.Removed = removed
	if err != nil {
		return res, err
	}
	if ap.needsRestart(res.Changed) {
		held, err := ap.Gate.hold(res.Changed)
		if err != nil { // never lose a restart: run it now
			ap.logger().Error("cannot hold the restart for the restart window, restarting now", "err", err)
		} else if held {
			res.Deferred = true
			return res, nil
		}
		ap.Gate.done()
		if err := ap.restart(ctx, res.Changed); err != nil {
			return res, err
		}
		res.Restarted = true
	}
	return res, nil
}

// stagedFile is a file written to tmp, to be renamed to path.
type stagedFile struct {
	name, path, tmp string
}

// stage writes f to a temporary file in the folder unless the folder
// holds it already with its mode.
func (ap *Applier) stage(f agentwire.File) (stagedFile, bool, error) {
	path := filepath.Join(ap.Dir, f.Name)
	mode := os.FileMode(f.Mode)
	old, statErr := os.Lstat(path)
	if statErr == nil && old.Mode().IsRegular() && old.Mode().Perm() == mode {
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, f.Data) {
			return stagedFile{}, false, nil
		}
	}
	fh, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(f.Name)+".tmp-*")
	if err != nil {
		return stagedFile{}, false, fmt.Errorf("writing %s: %w", f.Name, err)
	}
	s := stagedFile{name: f.Name, path: path, tmp: fh.Name()}
	err = writeSync(fh, f.Data, mode)
	if err == nil && f.Name == "crl.pem" {
		err = ap.moveMtime(s.tmp, old, statErr)
	}
	if err != nil {
		os.Remove(s.tmp)
		return stagedFile{}, false, fmt.Errorf("writing %s: %w", f.Name, err)
	}
	return s, true, nil
}

// syncDirs fsyncs the folders whose entries changed: the server's folder
// and ccd/.
func (ap *Applier) syncDirs(changed []string) error {
	top, ccd := false, false
	for _, n := range changed {
		if strings.HasPrefix(n, agentwire.CCDPrefix) {
			ccd = true
		} else {
			top = true
		}
	}
	if top {
		if err := safefile.SyncDir(ap.Dir); err != nil {
			return err
		}
	}
	if ccd {
		return safefile.SyncDir(filepath.Join(ap.Dir, ccdDir))
	}
	return nil
}

// removeStale removes from ccd/ every file st does not hold: the users it
// names are no longer vpnkeys' (ccd-exclusive then refuses them). The
// folder is vpnkeys' own; what else is in it goes too.
func (ap *Applier) removeStale(st agentwire.State) ([]string, error) {
	keep := map[string]bool{}
	for _, f := range st.Files {
		if u, ok := strings.CutPrefix(f.Name, agentwire.CCDPrefix); ok {
			keep[u] = true
		}
	}
	dir := filepath.Join(ap.Dir, ccdDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		if keep[e.Name()] || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("removing %s: %w", agentwire.CCDPrefix+e.Name(), err)
		}
		removed = append(removed, agentwire.CCDPrefix+e.Name())
	}
	if len(removed) > 0 {
		return removed, safefile.SyncDir(dir)
	}
	return nil, nil
}

// writeSync writes, chmods, fsyncs and closes fh.
func writeSync(fh *os.File, data []byte, mode os.FileMode) error {
	_, err := fh.Write(data)
	if err == nil {
		err = fh.Chmod(mode)
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// moveMtime gives the new crl.pem an mtime, in whole seconds, above the
// old one's, so OpenVPN reloads it even when it has the same size and
// lands within the same second (authority's writeCRL keeps the same rule).
func (ap *Applier) moveMtime(tmp string, old os.FileInfo, statErr error) error {
	now := time.Now()
	if ap.Now != nil {
		now = ap.Now()
	}
	if statErr == nil && now.Unix() <= old.ModTime().Unix() {
		now = old.ModTime().Truncate(time.Second).Add(time.Second)
	}
	return os.Chtimes(tmp, now, now)
}

func (ap *Applier) needsRestart(changed []string) bool {
	if ap.RestartCommand == "" {
		return false
	}
	for _, n := range changed {
		if slices.Contains(agentwire.RestartFiles, n) {
			return true
		}
	}
	return false
}

// restart runs the restart command with sh -c (the operator's own
// command line: it is never built from the state) and logs its output.
func (ap *Applier) restart(ctx context.Context, changed []string) error {
	timeout := ap.RestartTimeout
	if timeout <= 0 {
		timeout = DefaultRestartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", ap.RestartCommand)
	cmd.Dir = ap.Dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	log := ap.logger().With("changed", strings.Join(changed, ","), "output", strings.TrimSpace(string(out)))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		log.Error("restart command failed", "err", err)
		return fmt.Errorf("%w: %w", ErrRestart, err)
	}
	log.Info("restart command ran")
	return nil
}

func (ap *Applier) logger() *slog.Logger {
	if ap.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return ap.Log
}
