package authority

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// The self-test's probe identities. Each server has two client
// certificates of its own, recorded like everything the CA signs (kind
// client) under subjects no user name can take (user names hold no ':'):
// "probe:NAME", which must get a tunnel, and "probe-revoked:NAME",
// revoked as it is made, which the server must refuse. Both have a
// client-config file on their server (ccd-exclusive would refuse them
// otherwise, and the revoked one must be refused by the CRL alone) with
// an address no user holds and no routes, so the firewall gives them
// nothing. They are made on first use (a self-test, or the agent's
// state) and renewed, as server certificates are, before they expire.
const (
	ProbePrefix        = "probe:"
	ProbeRevokedPrefix = "probe-revoked:"
	// ActionProbe is the audit action of a probe certificate being made.
	ActionProbe = "selftest.probe"
)

// isProbe tells a probe's subject from a user's name.
func isProbe(subject string) bool {
	return strings.HasPrefix(subject, ProbePrefix) || strings.HasPrefix(subject, ProbeRevokedPrefix)
}

// ProbeSet is what a self-test of one server needs: where it listens and
// the two probes' profiles (each holds its private key).
type ProbeSet struct {
	Server  string
	Remote  ovpn.Remote
	Valid   []byte
	Revoked []byte
}

// probeOptions end every probe profile: no tun device and nothing changed
// on the host (no root needed), one attempt, short timeouts.
const probeOptions = `
# vpnkeys self-test probe: no tun device, nothing changed on this host,
# one attempt with short timeouts.
dev null
ifconfig-noexec
route-noexec
connect-retry-max 1
server-poll-timeout 5
hand-window 10
`

// Probes returns server's probe profiles, making or renewing the probe
// certificates when needed. An unknown server is ErrServerNotFound and
// nothing is made.
func (a *Authority) Probes(ctx context.Context, server string) (ProbeSet, error) {
	u, err := a.ca()
	if err != nil {
		return ProbeSet{}, err
	}
	srv, err := a.db.Q().GetServer(ctx, server)
	if errors.Is(err, store.ErrNotFound) {
		return ProbeSet{}, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	} else if err != nil {
		return ProbeSet{}, err
	}
	return a.probeSet(ctx, u, srv)
}

// agentProbe is the probes of srv as the agent's state carries them.
func (a *Authority) agentProbe(ctx context.Context, u *unlockedCA, server string) (*agentwire.Probe, error) {
	srv, err := a.db.Q().GetServer(ctx, server)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrServerNotFound, server)
	} else if err != nil {
		return nil, err
	}
	ps, err := a.cachedProbeSet(ctx, u, srv)
	if err != nil {
		return nil, err
	}
	return &agentwire.Probe{Port: srv.Port, Proto: srv.Proto, Valid: ps.Valid, Revoked: ps.Revoked}, nil
}

func (a *Authority) probeSet(ctx context.Context, u *unlockedCA, srv store.Server) (ProbeSet, error) {
	ps, _, err := a.probeSetUntil(ctx, u, srv)
	return ps, err
}

// probeSetUntil is probeSet, and when the first of the two probes is due
// for renewal (probeCache keeps the set until then).
func (a *Authority) probeSetUntil(ctx context.Context, u *unlockedCA, srv store.Server) (ProbeSet, time.Time, error) {
	ps := ProbeSet{Server: srv.Name, Remote: ovpn.Remote{Host: srv.Host, Port: srv.Port, Proto: srv.Proto}}
	var until time.Time
	for _, revoked := range []bool{false, true} {
		var c store.Cert
		var key []byte
		err := a.retry(ctx, "probe certificate", func() error {
			var err error
			c, key, err = a.probeCert(ctx, u, srv.Name, revoked)
			return err
		})
		if err != nil {
			return ProbeSet{}, time.Time{}, err
		}
		if due := c.NotAfter.Add(-renewBefore(c)); until.IsZero() || due.Before(until) {
			until = due
		}
		profile, err := a.probeProfile(ctx, u, srv, c, key)
		if err != nil {
			return ProbeSet{}, time.Time{}, err
		}
		if revoked {
			ps.Revoked = profile
		} else {
			ps.Valid = profile
		}
	}
	return ps, until, nil
}

// probeCert returns server's valid (or revoked) probe certificate and its
// key, making a new one when there is none or it is due for renewal. A
// new valid probe supersedes the old one; a new revoked probe is recorded
// revoked and the CRL is signed again in the same transaction.
func (a *Authority) probeCert(ctx context.Context, u *unlockedCA, server string, revoked bool) (store.Cert, []byte, error) {
	subject, state := ProbePrefix+server, store.StateActive
	if revoked {
		subject, state = ProbeRevokedPrefix+server, store.StateRevoked
	}
	certs, err := a.db.Q().CertsOf(ctx, store.KindClient, subject)
	if err != nil {
		return store.Cert{}, nil, err
	}
	now := a.now()
	var cur store.Cert
	for _, c := range certs {
		if c.State == state && c.NotAfter.After(now) && (cur.Serial == "" || c.NotAfter.After(cur.NotAfter)) {
			cur = c
		}
	}
	if cur.Serial != "" && cur.NotAfter.After(now.Add(renewBefore(cur))) {
		key, err := u.sealer.Open(cur.KeySealed, keyLabel(store.KindClient, subject, cur.Serial))
		return cur, key, err
	}
	key, err := pki.GenerateKey(pki.AlgoOf(u.ca.Key.Public()))
	if err != nil {
		return store.Cert{}, nil, err
	}
	c, keyPEM, err := a.issue(u, pki.Client, subject, key, a.opts.LeafDays)
	if err != nil {
		return store.Cert{}, nil, err
	}
	if revoked {
		c.State, c.RevokedAt, c.Reason = store.StateRevoked, now, pki.CessationOfOperation.String()
	}
	err = a.txOnce(ctx, func(q *store.Queries) error {
		if !revoked && cur.Serial != "" {
			if err := q.EndCert(ctx, cur.Serial, store.StateSuperseded, now.Unix(), ""); err != nil {
				return err
			}
		}
		if err := q.InsertCert(ctx, c); err != nil {
			return err
		}
		if err := a.audit(ctx, q, ActionProbe, server, map[string]any{"serial": c.Serial, "revoked": revoked}); err != nil {
			return err
		}
		if revoked {
			_, err := a.signCRL(ctx, q, u)
			return err
		}
		return a.recordChange(ctx, q, ChangeServer, server, map[string]any{"op": "probe", "serial": c.Serial})
	})
	if err != nil {
		return store.Cert{}, nil, err
	}
	return c, keyPEM, nil
}

// probeProfile is the normal client profile of a probe certificate
// narrowed to srv (its control-channel mode, and a tls-crypt-v2 client key
// carrying the probe's serial), with probeOptions after it.
func (a *Authority) probeProfile(ctx context.Context, u *unlockedCA, srv store.Server, c store.Cert, keyPEM []byte) ([]byte, error) {
	tmpl, err := a.templates()
	if err != nil {
		return nil, err
	}
	r := ovpn.Remote{Host: srv.Host, Port: srv.Port, Proto: srv.Proto}
	servers := []bundle.Server{{Name: srv.Name, Host: srv.Host, Port: srv.Port, Proto: srv.Proto, Remote: r.String(),
		TLSMode: ovpn.TLSMode(srv.TLSMode).OrDefault()}}
	if err := a.loadTLSCryptV2For(ctx, servers); err != nil {
		return nil, err
	}
	v2, err := profileTLSCryptV2(u, servers, c.Serial)
	if err != nil {
		return nil, err
	}
	files, err := tmpl.Render(bundle.Data{
		User: c.Subject, Lang: "en", OS: "linux", Company: a.opts.Company, Contact: a.opts.Contact,
		Expires: c.NotAfter.Format(time.DateOnly), Profile: "probe.ovpn", Servers: servers,
		CA: string(u.renderedCA()), Cert: c.CertPEM, Key: string(keyPEM), TLSCrypt: string(u.tlsCrypt), TLSCryptV2: string(v2),
	})
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(files, func(f bundle.File) bool { return f.Name == "probe.ovpn" })
	if i < 0 {
		return nil, fmt.Errorf("rendering probe profile of %s: no profile", srv.Name)
	}
	return append(files[i].Data, probeOptions...), nil
}

// probeCCDFiles are the probes' client-config files on srv: the two
// highest addresses of its pool that no user holds (users get the
// lowest first) and nothing pushed. A full pool gives the probes no
// file, and the self-test then says the server refused the valid probe.
func probeCCDFiles(srv store.Server, taken []store.Address) ([]bundle.File, error) {
	p, err := newPool(srv, taken)
	if err != nil {
		return nil, err
	}
	pfx, err := netip.ParsePrefix(srv.Subnet)
	if err != nil {
		return nil, fmt.Errorf("reading subnet of server %s: %w", srv.Name, err)
	}
	mask := net.IP(net.CIDRMask(pfx.Bits(), 32)).String()
	var out []bundle.File
	names := []string{ProbePrefix + srv.Name, ProbeRevokedPrefix + srv.Name}
	for n := p.end - 1; n >= p.first && len(out) < len(names); n-- {
		if p.used[n] {
			continue
		}
		name := names[len(out)]
		data := "# vpnkeys: self-test probe " + name + "; no routes, and an address no user holds:\n" +
			"# the firewall lets it reach nothing.\nifconfig-push " + fromV4(n).String() + " " + mask + "\n"
		out = append(out, bundle.File{Name: agentwire.CCDPrefix + name, Mode: safefile.PublicMode, Data: []byte(data)})
	}
	if len(out) < len(names) {
		return nil, nil
	}
	return out, nil
}
