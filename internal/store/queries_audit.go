package store

import (
	"context"
	"fmt"
	"strings"
)

// InsertAudit appends to the audit log.
func (q *Queries) InsertAudit(ctx context.Context, e AuditEvent) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit (at, actor, source, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		unix(e.At), e.Actor, e.Source, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("writing audit record: %w", err)
	}
	return nil
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	Target string
	Action string
	Actor  string
	Since  int64 // unix seconds, 0: all
	Limit  int   // 0: 100
	Before int64 // id: only events older than this one (paging), 0: newest
}

// ListAudit lists audit events, newest first.
func (q *Queries) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Target != "" {
		add("target = $%d", f.Target)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Since > 0 {
		add("at >= $%d", f.Since)
	}
	if f.Before > 0 {
		add("id < $%d", f.Before)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := q.q.QueryContext(ctx, fmt.Sprintf(`SELECT id, at, actor, source, action, target, detail FROM audit%s ORDER BY id DESC LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("listing audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Source, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("listing audit events: %w", err)
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
