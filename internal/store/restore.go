package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Restore puts the SQLite backup file in place of the database at dsn. It
// checks the backup first (CheckBackup) and changes nothing when the check
// fails. An existing database is replaced only with force; it is
// checkpointed and kept beside the new one as DB.TIME.bak, whose path
// Restore returns. The new file appears under the database's name in one
// rename. Nothing else may have the database open meanwhile: stop the
// service first.
func Restore(ctx context.Context, backup, dsn string, force bool) (bak string, err error) {
	if IsPostgres(dsn) {
		return "", ErrBackupPostgres
	}
	if _, err := CheckBackup(ctx, backup); err != nil {
		return "", err
	}
	target := strings.TrimPrefix(dsn, "sqlite:")
	_, statErr := os.Stat(target)
	exists := statErr == nil
	if exists && !force {
		return "", fmt.Errorf("%w: database %s (give --force to replace it; the old one is kept as a .bak)", ErrExists, target)
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating data folder: %w", err)
	}
	tmp, err := copyTemp(backup, dir)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if exists {
		if bak, err = setAside(ctx, dsn, target); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return bak, fmt.Errorf("placing restored database: %w", err)
	}
	return bak, syncFile(dir)
}

// copyTemp copies src to a new 0600 file in dir, synced.
func copyTemp(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("reading backup: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".restore.*.tmp")
	if err != nil {
		return "", fmt.Errorf("copying backup: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("copying backup: %w", err)
	}
	return out.Name(), nil
}

// setAside folds the database's write-ahead log into it (so no -wal of the
// old database is left to meet the new one) and links it to a .bak name.
// It refuses while another process has the database open.
func setAside(ctx context.Context, dsn, target string) (string, error) {
	old, err := Open(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("opening the database to replace: %w", err)
	}
	_, err = old.sql.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if cerr := old.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("checkpointing the database to replace: %w", err)
	}
	// The last connection to close removes the log; one still there means
	// another process has the database open.
	if _, err := os.Stat(target + "-wal"); !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s is in use (a running vpnkeys serve?): stop it first", ErrConflict, target)
	}
	bak := fmt.Sprintf("%s.%s.bak", target, time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Link(target, bak); err != nil {
		return "", fmt.Errorf("keeping the old database: %w", err)
	}
	return bak, nil
}
