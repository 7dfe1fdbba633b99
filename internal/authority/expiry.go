package authority

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// What ExpiringView.Kind names.
const (
	ExpiringUser   = "user"
	ExpiringServer = "server"
	ExpiringAgent  = "agent" // a server's agent certificate; Name is the server
	ExpiringCA     = "ca"
)

// DefaultWithin is the horizon of Expiring when none is given.
const DefaultWithin = ExpiringWithin

// maxWithin bounds a horizon: the CA's longest lifetime.
const maxWithin = MaxCADays * 24 * time.Hour

// ExpiringView is one certificate that ends within the horizon: a user's,
// a server's own, or the CA's.
type ExpiringView struct {
	Kind     string    `json:"kind"` // user, server, agent, ca
	Name     string    `json:"name"` // user or server name (an agent's: its server); the CA's common name
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"` // whole days from now, rounded down
}

// ParseWithin reads a horizon such as 30d, 12h or 2w ("" is DefaultWithin).
func ParseWithin(s string) (time.Duration, error) {
	if s == "" {
		return DefaultWithin, nil
	}
	bad := fmt.Errorf("%w: within %q: want a positive duration such as 30d, 12h or 2w", account.ErrInvalid, s)
	if len(s) < 2 || len(s) > 12 {
		return 0, bad
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if unit == 0 || err != nil || n < 1 || strings.ContainsAny(s[:1], "+-") {
		return 0, bad
	}
	if time.Duration(n) > maxWithin/unit {
		return 0, fmt.Errorf("%w: within %q: at most %d days", account.ErrInvalid, s, MaxCADays)
	}
	return time.Duration(n) * unit, nil
}

// Expiring lists the active user and server certificates and the CA
// certificate that end after now and within the horizon, soonest first.
// Expired ones are not listed (list --status expired shows those users).
func (a *Authority) Expiring(ctx context.Context, within time.Duration) ([]ExpiringView, error) {
	if within <= 0 || within > maxWithin {
		return nil, fmt.Errorf("%w: within %s: want a positive duration of at most %d days", account.ErrInvalid, within, MaxCADays)
	}
	now := a.now()
	horizon := now.Add(within)
	certs, err := a.db.Q().ExpiringCerts(ctx, now.Unix(), horizon.Unix())
	if err != nil {
		return nil, err
	}
	out := make([]ExpiringView, 0, len(certs)+1)
	for _, c := range certs {
		kind, name := ExpiringUser, c.Subject
		if c.Kind == store.KindServer {
			kind = ExpiringServer
			if server, ok := strings.CutPrefix(c.Subject, agentPrefix); ok {
				kind, name = ExpiringAgent, server
			}
		}
		end := time.Unix(c.NotAfter, 0).UTC()
		out = append(out, ExpiringView{Kind: kind, Name: name, Serial: c.Serial, NotAfter: end, DaysLeft: daysLeft(now, end)})
	}
	ca, err := a.caView(ctx, now)
	if err != nil {
		return nil, err
	}
	if ca.NotAfter.After(now) && !ca.NotAfter.After(horizon) {
		out = append(out, ca)
		sort.SliceStable(out, func(i, j int) bool { return out[i].NotAfter.Before(out[j].NotAfter) })
	}
	return out, nil
}

// caView describes the CA certificate as an ExpiringView.
func (a *Authority) caView(ctx context.Context, now time.Time) (ExpiringView, error) {
	cert, err := a.caCert(ctx)
	if err != nil {
		return ExpiringView{}, err
	}
	end := cert.NotAfter.UTC()
	return ExpiringView{Kind: ExpiringCA, Name: cert.Subject.CommonName, Serial: pki.SerialHex(cert.SerialNumber),
		NotAfter: end, DaysLeft: daysLeft(now, end)}, nil
}

// daysLeft is the whole days from now to end, rounded down.
func daysLeft(now, end time.Time) int { return int(end.Sub(now) / (24 * time.Hour)) }
