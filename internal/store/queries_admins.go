package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Admin is a web UI account; only an argon2id hash of its password is kept.
type Admin struct {
	Name         string
	PasswordHash string
	CreatedAt    int64
}

// UpsertAdmin creates an admin or sets a new password.
func (q *Queries) UpsertAdmin(ctx context.Context, a Admin) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO admins (name, password_hash, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`, a.Name, a.PasswordHash, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("storing admin %s: %w", a.Name, err)
	}
	return nil
}

// GetAdmin loads an admin (ErrNotFound).
func (q *Queries) GetAdmin(ctx context.Context, name string) (Admin, error) {
	var a Admin
	err := q.q.QueryRowContext(ctx, `SELECT name, password_hash, created_at FROM admins WHERE name = $1`, name).Scan(&a.Name, &a.PasswordHash, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, fmt.Errorf("admin %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Admin{}, fmt.Errorf("loading admin: %w", err)
	}
	return a, nil
}

// DeleteAdmin removes an admin and, by cascade, their sessions.
func (q *Queries) DeleteAdmin(ctx context.Context, name string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE admin = $1`, name); err != nil {
		return fmt.Errorf("ending sessions: %w", err)
	}
	res, err := q.q.ExecContext(ctx, `DELETE FROM admins WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("removing admin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("admin %s: %w", name, ErrNotFound)
	}
	return nil
}

// Session is a signed-in admin's server-side session.
type Session struct {
	TokenHash string
	Admin     string
	CreatedAt int64
	ExpiresAt int64
	LastSeen  int64
	Source    string
}

// InsertSession stores a session.
func (q *Queries) InsertSession(ctx context.Context, s Session) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sessions (token_hash, admin, created_at, expires_at, last_seen, source) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.TokenHash, s.Admin, s.CreatedAt, s.ExpiresAt, s.LastSeen, s.Source)
	if err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// GetSession loads a session (ErrNotFound).
func (q *Queries) GetSession(ctx context.Context, hash string) (Session, error) {
	var s Session
	err := q.q.QueryRowContext(ctx, `SELECT token_hash, admin, created_at, expires_at, last_seen, source FROM sessions WHERE token_hash = $1`, hash).
		Scan(&s.TokenHash, &s.Admin, &s.CreatedAt, &s.ExpiresAt, &s.LastSeen, &s.Source)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("loading session: %w", err)
	}
	return s, nil
}

// TouchSession records activity.
func (q *Queries) TouchSession(ctx context.Context, hash string, at int64) error {
	_, err := q.q.ExecContext(ctx, `UPDATE sessions SET last_seen = $1 WHERE token_hash = $2`, at, hash)
	return err
}

// DeleteSession ends one session.
func (q *Queries) DeleteSession(ctx context.Context, hash string) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return err
}

// DeleteSessionsOf ends every session of an admin.
func (q *Queries) DeleteSessionsOf(ctx context.Context, admin string) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE admin = $1`, admin)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// LinkActivity is the last link sent and opened for a user.
type LinkActivity struct {
	LastSent   int64
	LastOpened int64
}

// LinkActivityOf returns link activity for the given users (one query).
func (q *Queries) LinkActivityOf(ctx context.Context, users []string) (map[string]LinkActivity, error) {
	out := map[string]LinkActivity{}
	if len(users) == 0 {
		return out, nil
	}
	ph := make([]string, len(users))
	args := make([]any, len(users))
	for i, u := range users {
		ph[i] = fmt.Sprintf("$%d", i+1)
		args[i] = u
	}
	rows, err := q.q.QueryContext(ctx, `SELECT user_name, MAX(created_at), COALESCE(MAX(opened_at), 0) FROM links
		WHERE user_name IN (`+strings.Join(ph, ", ")+`) GROUP BY user_name`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading link activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var a LinkActivity
		if err := rows.Scan(&u, &a.LastSent, &a.LastOpened); err != nil {
			return nil, err
		}
		out[u] = a
	}
	return out, rows.Err()
}
