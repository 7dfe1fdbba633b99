package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// copyTables lists what Copy moves, parents first; audit ids are given
// anew in the same order.
var copyTables = []struct {
	name, columns, order string
}{
	{"ca", "id, algo, cert_pem, key_pem, encrypted, tls_crypt, created_at, tls_crypt_v2, next_cert_pem, rollover_started_at", "id"},
	{"users", "name, email, full_name, os, lang, current_serial, created_at, updated_at", "name"},
	{"certificates", "serial, kind, subject, cert_pem, key_sealed, not_before, not_after, state, revoked_at, reason, created_at", "serial"},
	{"servers", "name, host, port, proto, subnet, created_at, push_routes, dns, domain, cert_days, tls_mode", "name"},
	{"server_outputs", "server_name, host, dir, written_at", "server_name, host, dir"},
	{"links", "token_hash, user_name, serial, created_at, expires_at, opened_at, used_at, used_from, purpose", "token_hash"},
	{"api_tokens", "name, token_hash, created_at, revoked_at, last_used", "name"},
	{"admins", "name, password_hash, created_at", "name"},
	{"settings", "key, value, updated_at", "key"},
	{"audit", "at, actor, source, action, target, detail", "id"},
	{"changes", "version, at, kind, subject, detail", "version"},
	{"groups", "name, description, created_at", "name"},
	{"group_rules", "grp, rule", "grp, rule"},
	{"group_members", "grp, username", "grp, username"},
	{"addresses", "server, username, address", "server, username"},
	{"expiry_warnings", "serial, days, user_name, claimed_at, claimed_by, sent_at, passed", "serial, days"}, // 0011
}

// Counts returns the number of rows of every copied table (and the CRL number).
func (db *DB) Counts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range copyTables {
		var n int64
		if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", t.name, err)
		}
		out[t.name] = n
	}
	var crl int64
	if err := db.sql.QueryRowContext(ctx, "SELECT number FROM crl WHERE id = 1").Scan(&crl); err != nil {
		return nil, fmt.Errorf("reading CRL number: %w", err)
	}
	out["crl_number"] = crl
	return out, nil
}

// Copy moves everything from src into dst, which must hold no CA yet, in
// one transaction on dst, then checks that every table has as many rows on
// both sides. It works in both directions between SQLite and PostgreSQL.
func Copy(ctx context.Context, src, dst *DB) (map[string]int64, error) {
	if _, err := dst.Q().GetCA(ctx); err == nil {
		return nil, fmt.Errorf("destination already holds a CA: %w", ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	err := dst.WithTx(ctx, func(q *Queries) error {
		for _, t := range copyTables {
			if err := copyTable(ctx, src.sql, q.q, t.name, t.columns, t.order); err != nil {
				return err
			}
		}
		var c CRL
		var der []byte
		var this, next int64
		err := src.sql.QueryRowContext(ctx, `SELECT number, der, this_update, next_update FROM crl WHERE id = 1`).Scan(&c.Number, &der, &this, &next)
		if err != nil {
			return fmt.Errorf("reading CRL: %w", err)
		}
		if _, err = q.q.ExecContext(ctx, `UPDATE crl SET number = $1, der = $2, this_update = $3, next_update = $4 WHERE id = 1`, c.Number, der, this, next); err != nil {
			return err
		}
		v, err := src.Q().Version(ctx)
		if err != nil {
			return err
		}
		_, err = q.q.ExecContext(ctx, `UPDATE change_version SET n = $1 WHERE id = 1`, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	want, err := src.Counts(ctx)
	if err != nil {
		return nil, err
	}
	got, err := dst.Counts(ctx)
	if err != nil {
		return nil, err
	}
	for k, n := range want {
		if got[k] != n {
			return got, fmt.Errorf("verifying copy: %s has %d rows, source %d", k, got[k], n)
		}
	}
	return got, nil
}

func copyTable(ctx context.Context, src *sql.DB, dst querier, table, columns, order string) error {
	rows, err := src.QueryContext(ctx, "SELECT "+columns+" FROM "+table+" ORDER BY "+order)
	if err != nil {
		return fmt.Errorf("reading %s: %w", table, err)
	}
	defer rows.Close()
	n := len(strings.Split(columns, ","))
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	insert := "INSERT INTO " + table + " (" + columns + ") VALUES (" + strings.Join(ph, ", ") + ")"
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	names := strings.Split(columns, ",")
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s: %w", table, err)
		}
		for i, c := range names {
			// SQLite keeps booleans as integers; PostgreSQL wants bool.
			if v, ok := vals[i].(int64); ok && strings.TrimSpace(c) == "encrypted" {
				vals[i] = v != 0
			}
		}
		if _, err := dst.ExecContext(ctx, insert, vals...); err != nil {
			return fmt.Errorf("writing %s: %w", table, err)
		}
	}
	return rows.Err()
}
