package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InsertServer registers a server (ErrExists when the name is taken).
func (q *Queries) InsertServer(ctx context.Context, s Server) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO servers (name, host, port, proto, subnet, created_at, push_routes, dns, domain, cert_days, tls_mode)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name) DO NOTHING`,
		s.Name, s.Host, s.Port, s.Proto, s.Subnet, unix(s.CreatedAt), s.PushRoutes, s.DNS, s.Domain, s.CertDays, tlsModeOrDefault(s.TLSMode))
	if err != nil {
		return fmt.Errorf("storing server %s: %w", s.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("server %s: %w", s.Name, ErrExists)
	}
	return nil
}

// GetServer loads a server (ErrNotFound).
func (q *Queries) GetServer(ctx context.Context, name string) (Server, error) {
	var s Server
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT name, host, port, proto, subnet, created_at, push_routes, dns, domain, cert_days, tls_mode FROM servers WHERE name = $1`, name).
		Scan(&s.Name, &s.Host, &s.Port, &s.Proto, &s.Subnet, &created, &s.PushRoutes, &s.DNS, &s.Domain, &s.CertDays, &s.TLSMode)
	if errors.Is(err, sql.ErrNoRows) {
		return Server{}, fmt.Errorf("server %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Server{}, fmt.Errorf("loading server %s: %w", name, err)
	}
	s.CreatedAt = fromUnix(created)
	return s, nil
}

// ListServers lists servers in the order they were added (the order of the
// `remote` lines in profiles: the first is tried first).
func (q *Queries) ListServers(ctx context.Context) ([]Server, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT name, host, port, proto, subnet, created_at, push_routes, dns, domain, cert_days, tls_mode FROM servers ORDER BY created_at, name`)
	if err != nil {
		return nil, fmt.Errorf("listing servers: %w", err)
	}
	defer rows.Close()
	var out []Server
	for rows.Next() {
		var s Server
		var created int64
		if err := rows.Scan(&s.Name, &s.Host, &s.Port, &s.Proto, &s.Subnet, &created, &s.PushRoutes, &s.DNS, &s.Domain, &s.CertDays, &s.TLSMode); err != nil {
			return nil, fmt.Errorf("listing servers: %w", err)
		}
		s.CreatedAt = fromUnix(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

// RecordServerOutput remembers a folder a server's files were written to.
func (q *Queries) RecordServerOutput(ctx context.Context, o ServerOutput) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO server_outputs (server_name, host, dir, written_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (server_name, host, dir) DO UPDATE SET written_at = excluded.written_at`,
		o.Server, o.Host, o.Dir, unix(o.WrittenAt))
	if err != nil {
		return fmt.Errorf("recording output of server %s: %w", o.Server, err)
	}
	return nil
}

// ServerOutputs lists the folders written on host.
func (q *Queries) ServerOutputs(ctx context.Context, host string) ([]ServerOutput, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT server_name, host, dir, written_at FROM server_outputs WHERE host = $1 ORDER BY dir`, host)
	if err != nil {
		return nil, fmt.Errorf("listing server outputs: %w", err)
	}
	defer rows.Close()
	var out []ServerOutput
	for rows.Next() {
		var o ServerOutput
		var at int64
		if err := rows.Scan(&o.Server, &o.Host, &o.Dir, &at); err != nil {
			return nil, fmt.Errorf("listing server outputs: %w", err)
		}
		o.WrittenAt = fromUnix(at)
		out = append(out, o)
	}
	return out, rows.Err()
}
