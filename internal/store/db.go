package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open vpnkeys database.
type DB struct {
	sql     *sql.DB
	dialect string
}

// IsPostgres tells whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens (creating and migrating when needed) the database named by
// dsn: a postgres:// URL, or a SQLite file path (optionally "sqlite:PATH").
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	if IsPostgres(dsn) {
		s, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		s.SetMaxOpenConns(16)
		db = &DB{sql: s, dialect: Postgres}
	} else {
		path := strings.TrimPrefix(dsn, "sqlite:")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("creating database folder: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(15000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		s, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		// One writer at a time is SQLite's model; a small pool still lets
		// reads run beside it.
		s.SetMaxOpenConns(4)
		db = &DB{sql: s, dialect: SQLite}
	}
	if err := db.sql.PingContext(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", db.dialect, err)
	}
	if !IsPostgres(dsn) {
		if err := os.Chmod(strings.TrimPrefix(dsn, "sqlite:"), 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.sql.Close()
			return nil, fmt.Errorf("securing database file: %w", err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Dialect is SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// SQL exposes the handle, for tests and copying.
func (db *DB) SQL() *sql.DB { return db.sql }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs queries outside a transaction, each on its own.
func (db *DB) Q() *Queries { return &Queries{q: db.sql, dialect: db.dialect} }

// WithTx runs fn in one transaction, committed when fn returns nil and
// rolled back otherwise. On SQLite the transaction takes the write lock at
// its start (BEGIN IMMEDIATE), so two writers never deadlock upgrading.
func (db *DB) WithTx(ctx context.Context, fn func(q *Queries) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(&Queries{q: tx, dialect: db.dialect}); err != nil {
		tx.Rollback()
		return asConflict(err)
	}
	if err := tx.Commit(); err != nil {
		return asConflict(fmt.Errorf("committing: %w", err))
	}
	return nil
}

// Queries are the statements of the store, on a DB or inside a transaction.
type Queries struct {
	q       querier
	dialect string
}
