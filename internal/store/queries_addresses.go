package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Address is a user's fixed VPN address on one server.
type Address struct {
	Server  string
	User    string
	Address string
}

// LockPool holds server's address pool until the transaction ends, so
// concurrent adds take turns picking the lowest free address instead of
// all picking the same one and all but one failing on the unique index:
// on PostgreSQL a row lock on the server, on SQLite the write lock every
// vpnkeys transaction already takes.
func (q *Queries) LockPool(ctx context.Context, server string) error {
	if q.dialect != Postgres {
		return nil
	}
	var name string
	if err := q.q.QueryRowContext(ctx, `SELECT name FROM servers WHERE name = $1 FOR UPDATE`, server).Scan(&name); err != nil {
		return fmt.Errorf("locking the address pool of %s: %w", server, err)
	}
	return nil
}

// CountAddresses is how many addresses server has given out.
func (q *Queries) CountAddresses(ctx context.Context, server string) (int, error) {
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM addresses WHERE server = $1`, server).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting addresses of %s: %w", server, err)
	}
	return n, nil
}

// AddressOf is user's address on server, "" when none.
func (q *Queries) AddressOf(ctx context.Context, server, user string) (string, error) {
	var a string
	err := q.q.QueryRowContext(ctx, `SELECT address FROM addresses WHERE server = $1 AND username = $2`, server, user).Scan(&a)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the address of %s on %s: %w", user, server, err)
	}
	return a, nil
}

// AddressTaken tells whether address is given out on server.
func (q *Queries) AddressTaken(ctx context.Context, server, address string) (bool, error) {
	var one int
	err := q.q.QueryRowContext(ctx, `SELECT 1 FROM addresses WHERE server = $1 AND address = $2`, server, address).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking address %s on %s: %w", address, server, err)
	}
	return true, nil
}

// ServerAddresses lists the addresses given out on server, by user.
func (q *Queries) ServerAddresses(ctx context.Context, server string) ([]Address, error) {
	return q.addresses(ctx, `SELECT server, username, address FROM addresses WHERE server = $1 ORDER BY username`, server)
}

// UserAddresses lists user's addresses, by server.
func (q *Queries) UserAddresses(ctx context.Context, user string) ([]Address, error) {
	return q.addresses(ctx, `SELECT server, username, address FROM addresses WHERE username = $1 ORDER BY server`, user)
}

// InsertAddress gives a user an address on a server. Another transaction
// that took the same address or gave the user one first makes it fail
// with a unique violation, which WithTx reports as ErrConflict.
func (q *Queries) InsertAddress(ctx context.Context, a Address) error {
	if _, err := q.q.ExecContext(ctx, `INSERT INTO addresses (server, username, address) VALUES ($1, $2, $3)`,
		a.Server, a.User, a.Address); err != nil {
		return fmt.Errorf("storing address of %s on %s: %w", a.User, a.Server, err)
	}
	return nil
}

// DeleteUserAddresses frees every address of user and returns how many.
func (q *Queries) DeleteUserAddresses(ctx context.Context, user string) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM addresses WHERE username = $1`, user)
	if err != nil {
		return 0, fmt.Errorf("freeing addresses of %s: %w", user, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteServerAddresses frees every address on server and returns how many.
func (q *Queries) DeleteServerAddresses(ctx context.Context, server string) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM addresses WHERE server = $1`, server)
	if err != nil {
		return 0, fmt.Errorf("freeing addresses on %s: %w", server, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ActiveUserNames lists, by name, the users whose current certificate is
// active: those a new server gives an address to.
func (q *Queries) ActiveUserNames(ctx context.Context) ([]string, error) {
	out, err := q.textColumn(ctx, `SELECT u.name FROM users u JOIN certificates c ON c.serial = u.current_serial
		WHERE c.state = 'active' ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("listing active users: %w", err)
	}
	return out, nil
}

func (q *Queries) addresses(ctx context.Context, query string, arg string) ([]Address, error) {
	rows, err := q.q.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	defer rows.Close()
	var out []Address
	for rows.Next() {
		var a Address
		if err := rows.Scan(&a.Server, &a.User, &a.Address); err != nil {
			return nil, fmt.Errorf("listing addresses: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// MissingAddresses counts the (server, active user) pairs that have no
// address yet: users onboarded before fixed addresses existed.
func (q *Queries) MissingAddresses(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN certificates c ON c.serial = u.current_serial AND c.state = 'active'
		CROSS JOIN servers s WHERE NOT EXISTS (SELECT 1 FROM addresses a WHERE a.server = s.name AND a.username = u.name)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting missing addresses: %w", err)
	}
	return n, nil
}
