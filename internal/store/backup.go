package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// ErrBackupPostgres is what Backup says on PostgreSQL, where the database
// server's own tools make a consistent snapshot.
var ErrBackupPostgres = fault.New(fault.Invalid, "backup_postgres", "backup of a PostgreSQL database: use pg_dump --format=custom --file FILE DSN, and pg_restore to bring it back")

// ErrBadBackup marks a backup file that restore refuses.
var ErrBadBackup = fault.New(fault.Invalid, "bad_backup", "not a usable vpnkeys backup")

// Backup writes a consistent snapshot of the SQLite database to path with
// VACUUM INTO, which reads inside one transaction: writers carry on while it
// runs and the copy holds every commit before it started and none after.
// path must not exist; the file is created 0600 and appears under its name
// only when complete.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating backup file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	// CreateTemp makes the file 0600 and empty; VACUUM INTO accepts an
	// empty file and keeps its mode.
	tmp.Close()
	if _, err := db.sql.ExecContext(ctx, `VACUUM INTO $1`, tmpName); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return err
	}
	// A hard link never replaces an existing file, unlike rename.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("placing backup: %w", err)
	}
	return syncFile(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// OpenReadOnly opens an existing database without creating or migrating
// anything; an SQLite file is opened read-only. For shell completion and
// checks that must not write.
func OpenReadOnly(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		s, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		return &DB{sql: s, dialect: Postgres}, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	s, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	s.SetMaxOpenConns(1)
	return &DB{sql: s, dialect: SQLite}, nil
}

// latestMigration is the newest schema version this binary knows.
func latestMigration(dialect string) (int, error) {
	entries, err := fs.ReadDir(migrationsFS, "migrations/"+dialect)
	if err != nil {
		return 0, fmt.Errorf("reading migrations: %w", err)
	}
	latest := 0
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return 0, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// CheckBackup checks an SQLite backup file without changing it: SQLite's
// integrity check passes, its schema version is one this binary knows, and
// it holds a CA. It returns the schema version.
func CheckBackup(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("reading backup: %w", err)
	}
	// immutable=1: no locks, no -wal or -shm beside the file, no writes.
	s, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return 0, fmt.Errorf("opening backup: %w", err)
	}
	defer s.Close()
	var ok string
	if err := s.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrBadBackup, path, err)
	}
	if ok != "ok" {
		return 0, fmt.Errorf("%w: %s: integrity check: %s", ErrBadBackup, path, ok)
	}
	var version sql.NullInt64
	if err := s.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || !version.Valid {
		return 0, fmt.Errorf("%w: %s: no schema version", ErrBadBackup, path)
	}
	latest, err := latestMigration(SQLite)
	if err != nil {
		return 0, err
	}
	if int(version.Int64) > latest {
		return 0, fmt.Errorf("%w: %s: schema version %d is newer than this vpnkeys knows (%d): restore with a newer vpnkeys", ErrBadBackup, path, version.Int64, latest)
	}
	var cas int
	if err := s.QueryRowContext(ctx, `SELECT COUNT(*) FROM ca`).Scan(&cas); err != nil || cas != 1 {
		return 0, fmt.Errorf("%w: %s: no CA in it", ErrBadBackup, path)
	}
	return int(version.Int64), nil
}
