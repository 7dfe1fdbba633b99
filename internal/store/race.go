package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PostgreSQL SQLSTATEs that mean another transaction won a race.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// lostRace tells, from the driver's error code and never from its message,
// whether err means that another transaction won a race, so that running
// the transaction again from the start may succeed: a unique or primary
// key violation (the other one inserted first), and on PostgreSQL a
// deadlock or a serialization failure; on SQLite a WAL snapshot that went
// stale. A busy timeout is not one: the database was held too long, and
// waiting again would only double the wait.
func lostRace(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation, pgSerializationFailure, pgDeadlockDetected:
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_BUSY_SNAPSHOT:
			return true
		}
	}
	return false
}

// asConflict marks an error that lost a race as ErrConflict, which the
// service retries; its text keeps the driver's words for the log.
func asConflict(err error) error {
	if !errors.Is(err, ErrConflict) && lostRace(err) {
		return ErrConflict.With(err)
	}
	return err
}
