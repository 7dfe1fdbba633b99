package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// UpsertUser creates a user or updates their details; CurrentSerial and
// CreatedAt of an existing user are kept.
func (q *Queries) UpsertUser(ctx context.Context, u User) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO users (name, email, full_name, os, lang, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (name) DO UPDATE SET email = excluded.email, full_name = excluded.full_name,
			os = excluded.os, lang = excluded.lang, updated_at = excluded.updated_at`,
		u.Name, u.Email, u.FullName, u.OS, u.Lang, unix(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("storing user %s: %w", u.Name, err)
	}
	return nil
}

// SetCurrentSerial points a user at their newest certificate.
func (q *Queries) SetCurrentSerial(ctx context.Context, name, serial string) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE users SET current_serial = $1 WHERE name = $2`, serial, name); err != nil {
		return fmt.Errorf("updating user %s: %w", name, err)
	}
	return nil
}

const userCertColumns = `u.name, u.email, u.full_name, u.os, u.lang, COALESCE(u.current_serial, ''), u.created_at, u.updated_at,
	c.serial, c.kind, c.subject, c.cert_pem, c.key_sealed, c.not_before, c.not_after, c.state, c.revoked_at, c.reason, c.created_at`

const userCertFrom = ` FROM users u LEFT JOIN certificates c ON c.serial = u.current_serial`

// GetUser loads a user with their current certificate.
func (q *Queries) GetUser(ctx context.Context, name string) (UserCert, error) {
	row := q.q.QueryRowContext(ctx, `SELECT `+userCertColumns+userCertFrom+` WHERE u.name = $1`, name)
	uc, err := scanUserCert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return UserCert{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return UserCert{}, fmt.Errorf("loading user %s: %w", name, err)
	}
	return uc, nil
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Search   string // substring of name, email or full name
	State    string // "", "active", "revoked", "expiring", "expired", "none"
	Now      int64  // unix seconds, for expiring/expired
	Horizon  int64  // unix seconds: "expiring" means not_after before this
	OrderBy  string // "name" (default), "expiry", "created"
	Desc     bool
	Limit    int // 0: all
	Offset   int
	Names    []string // only these users
	WithKeys bool     // include sealed keys (otherwise left nil)
}

// ListUsers lists users with their current certificates.
func (q *Queries) ListUsers(ctx context.Context, f UserFilter) ([]UserCert, error) {
	where, args := userWhere(f)
	order := "u.name"
	switch f.OrderBy {
	case "expiry":
		order = "c.not_after"
	case "created":
		order = "u.created_at"
	}
	if f.Desc {
		order += " DESC"
	}
	query := `SELECT ` + userCertColumns + userCertFrom + where + ` ORDER BY ` + order + `, u.name`
	if f.Limit > 0 {
		args = append(args, f.Limit, f.Offset)
		query += fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	}
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var out []UserCert
	for rows.Next() {
		uc, err := scanUserCert(rows)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		if !f.WithKeys && uc.Cert != nil {
			uc.Cert.KeySealed = nil
		}
		out = append(out, uc)
	}
	return out, rows.Err()
}

// CountUsers counts the users ListUsers would return without Limit.
func (q *Queries) CountUsers(ctx context.Context, f UserFilter) (int, error) {
	where, args := userWhere(f)
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*)`+userCertFrom+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}

func userWhere(f UserFilter) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Search != "" {
		p := arg("%" + strings.ToLower(f.Search) + "%")
		conds = append(conds, "(u.name LIKE "+p+" OR LOWER(u.email) LIKE "+p+" OR LOWER(u.full_name) LIKE "+p+")")
	}
	switch f.State {
	case "active":
		conds = append(conds, "c.state = 'active' AND c.not_after > "+arg(f.Now))
	case "expiring":
		conds = append(conds, "c.state = 'active' AND c.not_after > "+arg(f.Now)+" AND c.not_after <= "+arg(f.Horizon))
	case "expired":
		conds = append(conds, "c.state = 'active' AND c.not_after <= "+arg(f.Now))
	case "revoked":
		conds = append(conds, "c.state = 'revoked'")
	case "none":
		conds = append(conds, "c.serial IS NULL")
	}
	if len(f.Names) > 0 {
		ph := make([]string, len(f.Names))
		for i, n := range f.Names {
			ph[i] = arg(n)
		}
		conds = append(conds, "u.name IN ("+strings.Join(ph, ", ")+")")
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

type scanner interface{ Scan(dest ...any) error }

func scanUserCert(s scanner) (UserCert, error) {
	var uc UserCert
	var created, updated int64
	var serial, kind, subject, certPEM, state, reason sql.NullString
	var notBefore, notAfter, revokedAt, certCreated sql.NullInt64
	var key []byte
	err := s.Scan(&uc.Name, &uc.Email, &uc.FullName, &uc.OS, &uc.Lang, &uc.CurrentSerial, &created, &updated,
		&serial, &kind, &subject, &certPEM, &key, &notBefore, &notAfter, &state, &revokedAt, &reason, &certCreated)
	if err != nil {
		return UserCert{}, err
	}
	uc.CreatedAt, uc.UpdatedAt = fromUnix(created), fromUnix(updated)
	if serial.Valid {
		uc.Cert = &Cert{
			Serial: serial.String, Kind: kind.String, Subject: subject.String, CertPEM: certPEM.String,
			KeySealed: key, NotBefore: fromUnix(notBefore.Int64), NotAfter: fromUnix(notAfter.Int64),
			State: state.String, RevokedAt: fromUnix(revokedAt.Int64), Reason: reason.String,
			CreatedAt: fromUnix(certCreated.Int64),
		}
	}
	return uc, nil
}
