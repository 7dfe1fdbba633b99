package authority

import (
	"context"
	"encoding/json"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Kinds of change that the machines beside the OpenVPN servers (agents)
// must learn of.
const (
	ChangeCRL    = "crl"         // a CRL was signed; subject is its number
	ChangeRevoke = "user.revoke" // a user's certificates were revoked
	ChangeServer = "server"      // a server was added, changed, removed or got a certificate
	// ChangeDisconnect asks every agent to end a user's sessions (not revoked).
	ChangeDisconnect = "user.disconnect"
	// ChangeReinstate: a user without an active certificate (revoked, or
	// never issued one) got one, so agents must stop refusing them
	// (agentwire.State.Refused).
	ChangeReinstate = "user.reinstate"
)

// Kinds of change of access control (issue 13).
const (
	ChangeGroup   = "group"   // a group, its rules or its members changed; subject is the group
	ChangeAddress = "address" // fixed addresses were given or freed on a server; subject is the server
)

// ChangeView is one entry of the outbox: a change agents must learn of,
// with the version that only grows.
type ChangeView struct {
	Version int64           `json:"version"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Subject string          `json:"subject"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// recordChange writes a change into the outbox in transaction q, the one
// that makes the change, so the outbox never tells of a change that did
// not commit nor misses one that did. Call it last in the transaction: it
// holds the version counter's lock until the commit.
func (a *Authority) recordChange(ctx context.Context, q *store.Queries, kind, subject string, detail map[string]any) error {
	d := ""
	if len(detail) > 0 {
		b, _ := json.Marshal(detail)
		d = string(b)
	}
	v, err := q.RecordChange(ctx, store.Change{At: a.now().Unix(), Kind: kind, Subject: subject, Detail: d})
	if err != nil {
		return err
	}
	a.hub.mark(q, v) // published when the transaction commits (tx.go)
	return nil
}

// Changes returns the newest version and the changes after since (at most
// limit, oldest first): "what changed since version N" in one query.
// Versions commit in order, so whoever has seen version N has seen every
// change up to it.
func (a *Authority) Changes(ctx context.Context, since int64, limit int) (int64, []ChangeView, error) {
	q := a.db.Q()
	v, err := q.Version(ctx)
	if err != nil {
		return 0, nil, err
	}
	rows, err := q.ChangesSince(ctx, since, limit)
	if err != nil {
		return 0, nil, err
	}
	out := make([]ChangeView, len(rows))
	for i, c := range rows {
		out[i] = ChangeView{Version: c.Version, At: time.Unix(c.At, 0).UTC(), Kind: c.Kind, Subject: c.Subject}
		if c.Detail != "" {
			out[i].Detail = json.RawMessage(c.Detail)
		}
	}
	return v, out, nil
}
