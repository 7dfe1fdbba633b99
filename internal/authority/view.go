package authority

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// User statuses as the front ends show them.
const (
	StatusActive   = "active"
	StatusExpiring = "expiring" // active, expires within 30 days
	StatusExpired  = "expired"
	StatusRevoked  = "revoked"
	StatusNone     = "none" // no certificate yet
)

// ExpiringWithin is the horizon of StatusExpiring.
const ExpiringWithin = 30 * 24 * time.Hour

// UserView is a user as listed.
type UserView struct {
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	FullName  string    `json:"full_name,omitempty"`
	OS        string    `json:"os"`
	Lang      string    `json:"lang"`
	Status    string    `json:"status"`
	Serial    string    `json:"serial,omitempty"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"revocation_reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// CertView is one certificate in a user's history.
type CertView struct {
	Serial    string    `json:"serial"`
	State     string    `json:"state"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"revocation_reason,omitempty"`
}

// UserDetail is a user with their certificate history, newest first.
type UserDetail struct {
	UserView
	Certificates []CertView `json:"certificates"`
	// Groups and Addresses: what the user may reach (access control).
	Groups    []string      `json:"groups"`
	Addresses []AddressView `json:"addresses"`
}

func (a *Authority) view(uc store.UserCert) UserView {
	v := UserView{Name: uc.Name, Email: uc.Email, FullName: uc.FullName, OS: uc.OS, Lang: uc.Lang, CreatedAt: uc.CreatedAt, Status: StatusNone}
	if c := uc.Cert; c != nil {
		v.Serial, v.NotAfter, v.RevokedAt, v.Reason = c.Serial, c.NotAfter, c.RevokedAt, c.Reason
		v.Status = status(c, a.now())
	}
	return v
}

func status(c *store.Cert, now time.Time) string {
	switch {
	case c.State == store.StateRevoked:
		return StatusRevoked
	case c.State != store.StateActive || !c.NotAfter.After(now):
		return StatusExpired
	case c.NotAfter.Sub(now) <= ExpiringWithin:
		return StatusExpiring
	}
	return StatusActive
}

// ListFilter narrows List.
type ListFilter struct {
	Search  string
	Status  string        // "", active, expiring, expired, revoked, none
	Within  time.Duration // horizon of "expiring"; ExpiringWithin when zero
	OrderBy string        // name, expiry, created
	Desc    bool
	Limit   int
	Offset  int
}

// List lists users and the total matching the filter (before Limit).
func (a *Authority) List(ctx context.Context, f ListFilter) ([]UserView, int, error) {
	now := a.now()
	sf := store.UserFilter{Search: f.Search, State: f.Status, Now: now.Unix(), Horizon: now.Add(cmp.Or(f.Within, ExpiringWithin)).Unix(),
		OrderBy: f.OrderBy, Desc: f.Desc, Limit: f.Limit, Offset: f.Offset}
	switch f.Status {
	case "", StatusActive, StatusExpiring, StatusExpired, StatusRevoked, StatusNone:
	default:
		return nil, 0, fmt.Errorf("%w: status %q: use active, expiring, expired, revoked or none", account.ErrInvalid, f.Status)
	}
	rows, err := a.db.Q().ListUsers(ctx, sf)
	if err != nil {
		return nil, 0, err
	}
	total := len(rows)
	if f.Limit > 0 {
		if total, err = a.db.Q().CountUsers(ctx, sf); err != nil {
			return nil, 0, err
		}
	}
	out := make([]UserView, len(rows))
	for i, r := range rows {
		out[i] = a.view(r)
	}
	return out, total, nil
}

// Show returns one user with their certificate history.
func (a *Authority) Show(ctx context.Context, name string) (UserDetail, error) {
	if err := account.ValidName(name); err != nil {
		return UserDetail{}, err
	}
	uc, err := a.db.Q().GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return UserDetail{}, fmt.Errorf("%w: %s", ErrUserNotFound, name)
	}
	if err != nil {
		return UserDetail{}, err
	}
	certs, err := a.db.Q().CertsOf(ctx, store.KindClient, name)
	if err != nil {
		return UserDetail{}, err
	}
	d := UserDetail{UserView: a.view(uc), Certificates: make([]CertView, len(certs))}
	for i, c := range certs {
		d.Certificates[i] = CertView{Serial: c.Serial, State: c.State, NotBefore: c.NotBefore, NotAfter: c.NotAfter, RevokedAt: c.RevokedAt, Reason: c.Reason}
	}
	acc, err := a.userAccess(ctx, a.db.Q(), name)
	d.Groups, d.Addresses = acc.Groups, acc.Addresses
	return d, err
}

// AuditFilter narrows Audit; zero fields match everything.
type AuditFilter struct {
	Target string
	Action string
	Actor  string
	Since  time.Time // only events at or after this time
	Limit  int       // at most this many; 100 when zero
	Before int64     // only events older than this ID (paging)
}

// AuditView is one audit event, in the one JSON shape the CLI's --json and
// the API both print.
type AuditView struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Source string          `json:"source"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// DetailText is the event's detail as one line of JSON ("" when none).
func (e AuditView) DetailText() string { return string(e.Detail) }

// Audit lists audit events, newest first.
func (a *Authority) Audit(ctx context.Context, f AuditFilter) ([]AuditView, error) {
	var since int64
	if !f.Since.IsZero() {
		since = f.Since.Unix()
	}
	evs, err := a.db.Q().ListAudit(ctx, store.AuditFilter{Target: f.Target, Action: f.Action, Actor: f.Actor, Since: since, Limit: f.Limit, Before: f.Before})
	if err != nil {
		return nil, err
	}
	out := make([]AuditView, len(evs))
	for i, e := range evs {
		out[i] = AuditView{ID: e.ID, At: e.At, Actor: e.Actor, Source: e.Source, Action: e.Action, Target: e.Target}
		if e.Detail != "" {
			out[i].Detail = json.RawMessage(e.Detail)
		}
	}
	return out, nil
}
