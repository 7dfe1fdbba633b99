// Package store keeps vpnkeys' state in SQL: the CA, users, certificates,
// servers, the CRL and the audit log. One set of queries runs on the
// embedded SQLite default (modernc.org/sqlite, no cgo) and on PostgreSQL
// (pgx), with `$n` placeholders, RETURNING and partial unique indexes, which
// both understand. Schema changes are append-only migrations embedded per
// dialect under migrations/.
//
// The invariants that must hold with several vpnkeys processes on one
// database live in the schema, not in a process mutex: certificate serials
// are primary keys, a subject has at most one active certificate (a partial
// unique index), and the CRL number only grows (an UPDATE that increments it
// under the row lock).
package store
