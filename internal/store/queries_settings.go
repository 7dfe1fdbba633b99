package store

import (
	"context"
	"fmt"
	"time"
)

// Settings returns every stored setting, key to value.
func (q *Queries) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT key, value FROM settings ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("listing settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("listing settings: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetSetting stores value under key; an empty value deletes the key.
func (q *Queries) SetSetting(ctx context.Context, key, value string, at time.Time) error {
	var err error
	if value == "" {
		_, err = q.q.ExecContext(ctx, `DELETE FROM settings WHERE key = $1`, key)
	} else {
		_, err = q.q.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, unix(at))
	}
	if err != nil {
		return fmt.Errorf("storing setting %s: %w", key, err)
	}
	return nil
}
