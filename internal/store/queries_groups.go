package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Group is a named set of access rules (canonical strings, see package
// access) and the users in it.
type Group struct {
	Name        string
	Description string
	CreatedAt   time.Time
	Rules       []string // sorted
	Members     []string // sorted
}

// InsertGroup creates a group with its rules (ErrExists when the name is
// taken).
func (q *Queries) InsertGroup(ctx context.Context, g Group) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO groups (name, description, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		g.Name, g.Description, unix(g.CreatedAt))
	if err != nil {
		return fmt.Errorf("storing group %s: %w", g.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("group %s: %w", g.Name, ErrExists)
	}
	for _, r := range g.Rules {
		if _, err := q.AddGroupRule(ctx, g.Name, r); err != nil {
			return err
		}
	}
	return nil
}

// SetGroupDescription changes a group's description (ErrNotFound).
func (q *Queries) SetGroupDescription(ctx context.Context, name, description string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE groups SET description = $1 WHERE name = $2`, description, name)
	if err != nil {
		return fmt.Errorf("updating group %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("group %s: %w", name, ErrNotFound)
	}
	return nil
}

// DeleteGroup deletes a group, its rules and its memberships (ErrNotFound).
func (q *Queries) DeleteGroup(ctx context.Context, name string) error {
	for _, t := range []string{"group_rules", "group_members"} { // not relying on ON DELETE CASCADE alone
		if _, err := q.q.ExecContext(ctx, `DELETE FROM `+t+` WHERE grp = $1`, name); err != nil {
			return fmt.Errorf("deleting group %s: %w", name, err)
		}
	}
	res, err := q.q.ExecContext(ctx, `DELETE FROM groups WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("deleting group %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("group %s: %w", name, ErrNotFound)
	}
	return nil
}

// GetGroup loads a group with its rules and members (ErrNotFound).
func (q *Queries) GetGroup(ctx context.Context, name string) (Group, error) {
	var g Group
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT name, description, created_at FROM groups WHERE name = $1`, name).Scan(&g.Name, &g.Description, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Group{}, fmt.Errorf("group %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Group{}, fmt.Errorf("loading group %s: %w", name, err)
	}
	g.CreatedAt = fromUnix(created)
	if g.Rules, err = q.textColumn(ctx, `SELECT rule FROM group_rules WHERE grp = $1 ORDER BY rule`, name); err != nil {
		return Group{}, fmt.Errorf("loading rules of group %s: %w", name, err)
	}
	if g.Members, err = q.textColumn(ctx, `SELECT username FROM group_members WHERE grp = $1 ORDER BY username`, name); err != nil {
		return Group{}, fmt.Errorf("loading members of group %s: %w", name, err)
	}
	return g, nil
}

// ListGroups lists every group by name, with rules and members.
func (q *Queries) ListGroups(ctx context.Context) ([]Group, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT name, description, created_at FROM groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	var out []Group
	at := map[string]int{}
	for rows.Next() {
		var g Group
		var created int64
		if err := rows.Scan(&g.Name, &g.Description, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing groups: %w", err)
		}
		g.CreatedAt = fromUnix(created)
		at[g.Name] = len(out)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	pairs, err := q.textPairs(ctx, `SELECT grp, rule FROM group_rules ORDER BY grp, rule`)
	if err != nil {
		return nil, fmt.Errorf("listing group rules: %w", err)
	}
	for _, p := range pairs {
		g := &out[at[p[0]]]
		g.Rules = append(g.Rules, p[1])
	}
	if pairs, err = q.textPairs(ctx, `SELECT grp, username FROM group_members ORDER BY grp, username`); err != nil {
		return nil, fmt.Errorf("listing group members: %w", err)
	}
	for _, p := range pairs {
		g := &out[at[p[0]]]
		g.Members = append(g.Members, p[1])
	}
	return out, nil
}

// AddGroupRule adds a rule to a group; false when it was there already.
func (q *Queries) AddGroupRule(ctx context.Context, grp, rule string) (bool, error) {
	return q.execChanged(ctx, `INSERT INTO group_rules (grp, rule) VALUES ($1, $2) ON CONFLICT (grp, rule) DO NOTHING`, grp, rule)
}

// DeleteGroupRule takes a rule from a group; false when it was not there.
func (q *Queries) DeleteGroupRule(ctx context.Context, grp, rule string) (bool, error) {
	return q.execChanged(ctx, `DELETE FROM group_rules WHERE grp = $1 AND rule = $2`, grp, rule)
}

// AddGroupMember puts a user in a group; false when they were in it.
func (q *Queries) AddGroupMember(ctx context.Context, grp, user string) (bool, error) {
	return q.execChanged(ctx, `INSERT INTO group_members (grp, username) VALUES ($1, $2) ON CONFLICT (grp, username) DO NOTHING`, grp, user)
}

// DeleteGroupMember takes a user out of a group; false when they were not
// in it.
func (q *Queries) DeleteGroupMember(ctx context.Context, grp, user string) (bool, error) {
	return q.execChanged(ctx, `DELETE FROM group_members WHERE grp = $1 AND username = $2`, grp, user)
}

// GroupNames lists every group's name, sorted.
func (q *Queries) GroupNames(ctx context.Context) ([]string, error) {
	out, err := q.textColumn(ctx, `SELECT name FROM groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	return out, nil
}

// UserGroups lists the groups user is in, by name.
func (q *Queries) UserGroups(ctx context.Context, user string) ([]string, error) {
	out, err := q.textColumn(ctx, `SELECT grp FROM group_members WHERE username = $1 ORDER BY grp`, user)
	if err != nil {
		return nil, fmt.Errorf("listing groups of %s: %w", user, err)
	}
	return out, nil
}

// DeleteUserMemberships takes user out of every group and returns the
// groups they were in.
func (q *Queries) DeleteUserMemberships(ctx context.Context, user string) ([]string, error) {
	groups, err := q.UserGroups(ctx, user)
	if err != nil || len(groups) == 0 {
		return groups, err
	}
	if _, err := q.q.ExecContext(ctx, `DELETE FROM group_members WHERE username = $1`, user); err != nil {
		return nil, fmt.Errorf("deleting memberships of %s: %w", user, err)
	}
	return groups, nil
}

// execChanged runs a statement and reports whether it touched a row.
func (q *Queries) execChanged(ctx context.Context, stmt string, args ...any) (bool, error) {
	res, err := q.q.ExecContext(ctx, stmt, args...)
	if err != nil {
		return false, fmt.Errorf("changing %v: %w", args[0], err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// textColumn runs a query of one text column.
func (q *Queries) textColumn(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// textPairs runs a query of two text columns.
func (q *Queries) textPairs(ctx context.Context, query string, args ...any) ([][2]string, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
