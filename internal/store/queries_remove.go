package store

import (
	"context"
	"fmt"
)

// UpdateServer changes where clients reach a server and its address pool
// (ErrNotFound when there is no such server).
func (q *Queries) UpdateServer(ctx context.Context, s Server) error {
	res, err := q.q.ExecContext(ctx, `UPDATE servers SET host = $1, port = $2, proto = $3, subnet = $4, push_routes = $5, dns = $6, domain = $7 WHERE name = $8`,
		s.Host, s.Port, s.Proto, s.Subnet, s.PushRoutes, s.DNS, s.Domain, s.Name)
	if err != nil {
		return fmt.Errorf("updating server %s: %w", s.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("server %s: %w", s.Name, ErrNotFound)
	}
	return nil
}

// DeleteServer deletes a server and the record of the folders its files
// were written to (ErrNotFound when there is no such server). Its
// certificates stay, for the CRL and the history.
func (q *Queries) DeleteServer(ctx context.Context, name string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM server_outputs WHERE server_name = $1`, name); err != nil {
		return fmt.Errorf("deleting outputs of server %s: %w", name, err)
	}
	res, err := q.q.ExecContext(ctx, `DELETE FROM servers WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("deleting server %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("server %s: %w", name, ErrNotFound)
	}
	return nil
}

// ServerOutputsOf lists every folder (on any host) server's files went to.
func (q *Queries) ServerOutputsOf(ctx context.Context, server string) ([]ServerOutput, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT server_name, host, dir, written_at FROM server_outputs WHERE server_name = $1 ORDER BY host, dir`, server)
	if err != nil {
		return nil, fmt.Errorf("listing outputs of server %s: %w", server, err)
	}
	defer rows.Close()
	var out []ServerOutput
	for rows.Next() {
		var o ServerOutput
		var at int64
		if err := rows.Scan(&o.Server, &o.Host, &o.Dir, &at); err != nil {
			return nil, fmt.Errorf("listing outputs of server %s: %w", server, err)
		}
		o.WrittenAt = fromUnix(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// CountActiveClients counts the users' certificates now active (not
// the self-test probes', subject "probe:SERVER": no user name holds a ':').
func (q *Queries) CountActiveClients(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE kind = 'client' AND state = 'active'
		AND subject NOT LIKE 'probe%:%'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting active certificates: %w", err)
	}
	return n, nil
}

// DeleteOpenLinks deletes the user's links not used yet (used ones stay as
// the record of the download) and returns how many went.
func (q *Queries) DeleteOpenLinks(ctx context.Context, user string) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM links WHERE user_name = $1 AND used_at IS NULL`, user)
	if err != nil {
		return 0, fmt.Errorf("deleting links of %s: %w", user, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AdminInfo is a line of `admin list`: an account and its live sessions.
type AdminInfo struct {
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Sessions  int    `json:"sessions"`  // not expired at the time asked
	LastSeen  int64  `json:"last_seen"` // latest activity of any session; 0: none
}

// ListAdmins lists the web admins by name with their sessions alive at now.
func (q *Queries) ListAdmins(ctx context.Context, now int64) ([]AdminInfo, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT a.name, a.created_at,
			COUNT(s.token_hash), COALESCE(MAX(s.last_seen), 0)
		FROM admins a LEFT JOIN sessions s ON s.admin = a.name AND s.expires_at > $1
		GROUP BY a.name, a.created_at ORDER BY a.name`, now)
	if err != nil {
		return nil, fmt.Errorf("listing admins: %w", err)
	}
	defer rows.Close()
	var out []AdminInfo
	for rows.Next() {
		var a AdminInfo
		if err := rows.Scan(&a.Name, &a.CreatedAt, &a.Sessions, &a.LastSeen); err != nil {
			return nil, fmt.Errorf("listing admins: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
