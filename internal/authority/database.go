package authority

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Database is an open vpnkeys database (SQLite or PostgreSQL), migrated.
// Front ends open one, read the settings kept in it, and make the service
// over it; they never see the store beneath.
type Database struct{ db *store.DB }

// IsPostgres tells whether dsn names a PostgreSQL database rather than an
// SQLite file.
func IsPostgres(dsn string) bool { return store.IsPostgres(dsn) }

// OpenDatabase opens (creating and migrating when needed) the database
// named by dsn: a postgres:// URL or an SQLite file, whose folder is made
// 0700 when missing.
func OpenDatabase(ctx context.Context, dsn string) (*Database, error) {
	if !IsPostgres(dsn) {
		if err := os.MkdirAll(filepath.Dir(strings.TrimPrefix(dsn, "sqlite:")), 0o700); err != nil {
			return nil, fmt.Errorf("creating data folder: %w", err)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Database{db: db}, nil
}

// OpenDatabaseReadOnly opens an existing database for reading only (shell
// completion): it creates and migrates nothing.
func OpenDatabaseReadOnly(ctx context.Context, dsn string) (*Database, error) {
	db, err := store.OpenReadOnly(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Database{db: db}, nil
}

// Close closes the database.
func (d *Database) Close() error { return d.db.Close() }

// Service is the Authority over this database.
func (d *Database) Service(opts Options) *Authority { return New(d.db, opts) }

// Settings returns the settings kept in the database (see SettingKeys).
func (d *Database) Settings(ctx context.Context) (map[string]string, error) {
	return d.db.Q().Settings(ctx)
}

// CopyDatabase copies a whole company from one database into another that
// holds no CA yet, in one transaction on the destination, checks that every
// table has as many rows on both sides, and records the copy in the
// destination's audit log. It returns the rows copied per table.
func CopyDatabase(ctx context.Context, fromDSN, toDSN string) (map[string]int64, error) {
	src, err := OpenDatabase(ctx, fromDSN)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := OpenDatabase(ctx, toDSN)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	if dst.db.Dialect() == store.Postgres {
		if err := postgresText(ctx, src.db); err != nil {
			return nil, err
		}
	}
	counts, err := store.Copy(ctx, src.db, dst.db)
	if err != nil {
		return nil, err
	}
	a := dst.Service(Options{})
	return counts, a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "db.copy", src.db.Dialect(), map[string]any{"rows": counts})
	})
}

// postgresText finds the user whose free text PostgreSQL would refuse
// (invalid UTF-8 or a NUL byte, which an older vpnkeys let a full name
// store in SQLite), so a copy stops before it starts with a line that says
// what to fix, instead of halfway with the database's words.
func postgresText(ctx context.Context, src *store.DB) error {
	users, err := src.Q().ListUsers(ctx, store.UserFilter{})
	if err != nil {
		return fmt.Errorf("checking users: %w", err)
	}
	for _, u := range users {
		for _, f := range []struct{ field, v string }{{"full name", u.FullName}, {"email", u.Email}} {
			why := ""
			switch {
			case !utf8.ValidString(f.v):
				why = "not valid UTF-8"
			case strings.ContainsRune(f.v, 0):
				why = "holds a NUL byte"
			default:
				continue
			}
			return fmt.Errorf("%w: user %q: %s: %s, which PostgreSQL refuses; correct the user's %s in the source, then copy again",
				account.ErrInvalid, u.Name, f.field, why, f.field)
		}
	}
	return nil
}
