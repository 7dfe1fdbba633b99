package authority

import (
	"context"
	"encoding/json"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Actor is who asks for a change and from where, for the audit log.
type Actor struct {
	Name   string // "cli:root", "token:ci", "admin:ann", "link"
	Source string // "host web1", "203.0.113.7"
}

type actorKey struct{}

// WithActor attaches the actor of a request to ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx ("unknown" when none was attached).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "unknown"}
}

// audit records an event in the transaction q.
func (a *Authority) audit(ctx context.Context, q *store.Queries, action, target string, detail map[string]any) error {
	act := ActorFrom(ctx)
	d := ""
	if len(detail) > 0 {
		b, _ := json.Marshal(detail)
		d = string(b)
	}
	return q.InsertAudit(ctx, store.AuditEvent{
		At: a.now(), Actor: act.Name, Source: act.Source, Action: action, Target: target, Detail: d,
	})
}
