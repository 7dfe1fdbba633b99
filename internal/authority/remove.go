package authority

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ErrLastServer refuses to remove the only server while users have access:
// every profile issued afterwards would list no server.
var ErrLastServer = fault.New(fault.Conflict, "last_server", "the last server cannot be removed while users have active certificates: add its replacement first")

// ServerChange edits a registered server; empty fields keep their value,
// and a nil pushed list or domain keeps it (an empty one clears it).
type ServerChange struct {
	Name       string
	Remote     string // HOST:PORT[/udp|/tcp]
	Subnet     string
	PushRoutes *[]string
	DNS        *[]string
	Domain     *string
	TLSMode    string // "" leaves it
}

// SetServer changes a server's remote (host, port, protocol) or subnet.
// Profiles and server files written afterwards carry the change; when the
// remote or the control-channel mode changed, the bundle folders are
// re-rendered (refresh.go); server files already written are not (the CLI
// says to rewrite them).
func (a *Authority) SetServer(ctx context.Context, c ServerChange) (ServerView, error) {
	if err := account.ValidName(c.Name); err != nil {
		return ServerView{}, fmt.Errorf("server %w", err)
	}
	var s store.Server
	profiles := false // whether what every profile holds changed
	err := a.withRetry(ctx, func(q *store.Queries) error {
		var err error
		if s, err = q.GetServer(ctx, c.Name); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrServerNotFound, c.Name)
		} else if err != nil {
			return err
		}
		before := profileKeyOf(s)
		detail := map[string]any{}
		if c.Remote != "" {
			rem, err := ovpn.ParseRemote(c.Remote)
			if err != nil {
				return fmt.Errorf("%w: %w", account.ErrInvalid, err)
			}
			s.Host, s.Port, s.Proto = rem.Host, rem.Port, rem.Proto
			detail["remote"] = rem.String()
		}
		if c.Subnet != "" {
			if _, _, err := ovpn.ParseSubnet(c.Subnet); err != nil {
				return fmt.Errorf("%w: %w", account.ErrInvalid, err)
			}
			s.Subnet = c.Subnet
			detail["subnet"] = c.Subnet
		}
		if err := changePush(&s, c, detail); err != nil {
			return err
		}
		if err := changeTLSMode(ctx, q, &s, c.TLSMode, detail); err != nil {
			return err
		}
		if err := q.UpdateServer(ctx, s); err != nil {
			return err
		}
		profiles = profileKeyOf(s) != before
		if c.Subnet != "" {
			if err := reseat(ctx, q, s); err != nil {
				return err
			}
		}
		if err := a.audit(ctx, q, "server.set", c.Name, detail); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeServer, c.Name, map[string]any{"op": "set"})
	})
	if err == nil && profiles {
		a.refreshAfter(ctx, "server.set")
	}
	return serverView(s), err
}

// RemoveServer unregisters a server: profiles issued afterwards no longer
// list it, its certificate is revoked (cessation of operation, so its key
// can no longer pose as a VPN server) and the CRL re-signed, and vpnkeys
// stops refreshing crl.pem in the folders its files went to; its agent's
// certificate is revoked too and its unused join tokens deleted. The files in
// those folders are left alone (they are the running OpenVPN's); the
// folders are returned so the caller can name them.
func (a *Authority) RemoveServer(ctx context.Context, name string) ([]ServerFolder, error) {
	u, err := a.ca()
	if err != nil {
		return nil, err
	}
	var outs []store.ServerOutput
	err = a.withRetry(ctx, func(q *store.Queries) error {
		servers, err := q.ListServers(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, s := range servers {
			found = found || s.Name == name
		}
		if !found {
			return fmt.Errorf("%w: %s", ErrServerNotFound, name)
		}
		if n, err := q.CountActiveClients(ctx); err != nil {
			return err
		} else if len(servers) == 1 && n > 0 {
			return ErrLastServer
		}
		if outs, err = q.ServerOutputsOf(ctx, name); err != nil {
			return err
		}
		if c, err := q.ActiveCert(ctx, store.KindServer, name); err == nil {
			if err := q.EndCert(ctx, c.Serial, store.StateRevoked, a.now().Unix(), pki.CessationOfOperation.String()); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Its self-test probe goes with it (selftest.go).
		if _, err := q.RevokeAllOf(ctx, store.KindClient, ProbePrefix+name, a.now().Unix(), pki.CessationOfOperation.String(), a.now().Unix()); err != nil {
			return err
		}
		if _, err := q.DeleteServerAddresses(ctx, name); err != nil {
			return err
		}
		agent, err := a.endAgent(ctx, q, name)
		if err != nil {
			return err
		}
		if err := q.DeleteServer(ctx, name); err != nil {
			return err
		}
		dirs := make([]string, len(outs))
		for i, o := range outs {
			dirs[i] = o.Host + ":" + o.Dir
		}
		if err := a.audit(ctx, q, "server.remove", name, map[string]any{"folders": dirs, "agent": agent}); err != nil {
			return err
		}
		if err := a.recordChange(ctx, q, ChangeServer, name, map[string]any{"op": "remove"}); err != nil {
			return err
		}
		_, err = a.signCRL(ctx, q, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	folders := make([]ServerFolder, len(outs))
	for i, o := range outs {
		folders[i] = ServerFolder{Host: o.Host, Dir: o.Dir}
	}
	_, err = a.publishCRL(ctx)
	a.refreshAfter(ctx, "server.remove") // bundle folders no longer list it (refresh.go)
	if err != nil {
		return folders, fmt.Errorf("server removed, but writing crl.pem failed: %w", err)
	}
	return folders, nil
}

// ServerFolder is a folder on a host that a server's files were written to.
type ServerFolder struct {
	Host string `json:"host"`
	Dir  string `json:"dir"`
}

// RemoveResult says what RemoveUser did.
type RemoveResult struct {
	Revoked string // the serial revoked, "" when none was active
	Links   int64  // open links deleted
	CRL     CRLInfo
}

// RemoveUser takes a user away for good: revokes their active certificate
// (Revoke: CRL re-signed, crl.pem rewritten), deletes their bundle folder
// and archives under bundleDir (Authority.BundleDir() when "") and their
// links not used yet. The user's record, certificates and audit events
// stay, so `show` keeps the history and the CRL keeps the serials; adding
// the name again later must be asked for (AddOptions.Reinstate).
func (a *Authority) RemoveUser(ctx context.Context, name, bundleDir, reason string) (RemoveResult, error) {
	if err := account.ValidName(name); err != nil {
		return RemoveResult{}, err
	}
	if _, err := a.ca(); err != nil {
		return RemoveResult{}, err
	}
	if _, err := a.db.Q().GetUser(ctx, name); errors.Is(err, store.ErrNotFound) {
		return RemoveResult{}, fmt.Errorf("%w: %s", ErrUserNotFound, name)
	} else if err != nil {
		return RemoveResult{}, err
	}
	var res RemoveResult
	rv, err := a.Revoke(ctx, name, reason)
	switch {
	case err == nil:
		res.Revoked, res.CRL = rv.Serial, rv.CRL
	case !errors.Is(err, ErrNotActive):
		return res, err
	}
	if bundleDir == "" {
		bundleDir = a.BundleDir() // Revoke removed it from there already, unless there was nothing to revoke
	}
	if _, err := bundle.Remove(bundleDir, name); err != nil {
		return res, err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		var err error
		if res.Links, err = q.DeleteOpenLinks(ctx, name); err != nil {
			return err
		}
		freed, err := a.freeAccess(ctx, q, name)
		if err != nil {
			return err
		}
		return a.audit(ctx, q, "user.remove", name, map[string]any{"serial": res.Revoked, "links": res.Links, "freed": freed})
	})
	return res, err
}

// Admins lists the web admins and their live sessions.
func (a *Authority) Admins(ctx context.Context) ([]store.AdminInfo, error) {
	return a.db.Q().ListAdmins(ctx, a.now().Unix())
}

// PushOf reads what s pushes to its clients.
func PushOf(s store.Server) ovpn.Push {
	return ovpn.Push{Routes: strings.Fields(s.PushRoutes), DNS: strings.Fields(s.DNS), Domain: s.Domain}
}

// setPush stores p in s.
func setPush(s *store.Server, p ovpn.Push) {
	s.PushRoutes, s.DNS, s.Domain = strings.Join(p.Routes, " "), strings.Join(p.DNS, " "), p.Domain
}

// changePush applies c's pushed routes, DNS servers and domain to s.
func changePush(s *store.Server, c ServerChange, detail map[string]any) error {
	p := PushOf(*s)
	if c.PushRoutes != nil {
		p.Routes = *c.PushRoutes
		detail["push_routes"] = p.Routes
	}
	if c.DNS != nil {
		p.DNS = *c.DNS
		detail["dns"] = p.DNS
	}
	if c.Domain != nil {
		p.Domain = *c.Domain
		detail["domain"] = p.Domain
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	setPush(s, p)
	return nil
}
