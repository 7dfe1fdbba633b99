package authority

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ActionAgentRenew is the audit action of RenewAgent.
const ActionAgentRenew = "agent.renew"

// errSameKey is a renewal whose CSR carries the key of the certificate it
// renews: a renewal moves the agent to a new key.
var errSameKey = fmt.Errorf("%w: the renewal must be for a new key, not the current certificate's", errBadCSR)

// RenewAgent issues server's agent a new certificate for the key of the
// CSR, in place of cert, the agent certificate the request came with. from
// is the peer's address, for the audit log.
//
// cert must be the server's current agent certificate (as AuthorizeAgent
// admits it), checked again inside the transaction, so two renewals
// racing with one certificate issue one new certificate and refuse the
// other. In that transaction, as a re-join does: the new certificate is
// issued with the join's lifetime and recorded, the old one revoked
// (superseded: every later request with it is refused, and it goes on the
// CRL, which is re-signed and recorded as a change), and agent.renew
// audited. The agent switches to the new pair once it has written it; a
// request it already made with the old one is not cut off.
//
// An answer lost on the way (the agent still holds only the superseded
// certificate) is not a lock-out: the agent asks again with the same new
// key, and a superseded certificate of server whose CSR is for the key of
// the server's current agent certificate gets that certificate again
// (audited, nothing issued); holding that key is the proof. A CSR that
// does not parse, whose key is not allowed or is the current one is
// refused (fault.Invalid) before anything is issued.
func (a *Authority) RenewAgent(ctx context.Context, cert *x509.Certificate, server, from string, csrDER []byte) (agentwire.JoinResponse, error) {
	name, why, detail, err := a.checkAgent(ctx, cert)
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	redeliver := why == agentSuperseded && name == server
	switch {
	case why != "" && !redeliver:
		return agentwire.JoinResponse{}, a.refuseAgent(ctx, name, why, detail, from)
	case why == "" && name != server:
		return agentwire.JoinResponse{}, a.refuseAgent(ctx, name, agentWrongServer, map[string]any{"asked": server, "serial": pki.SerialHex(cert.SerialNumber)}, from)
	}
	csr, err := parseCSR(csrDER)
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	if bytes.Equal(csr.RawSubjectPublicKeyInfo, cert.RawSubjectPublicKeyInfo) {
		return agentwire.JoinResponse{}, errSameKey
	}
	ctx = WithActor(ctx, Actor{Name: agentPrefix + server, Source: from})
	trust, err := a.trustPEM(ctx) // both certificates during a CA rollover
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	if redeliver {
		return a.redeliverAgent(ctx, cert, server, from, csr, trust, detail)
	}
	u, err := a.ca()
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	serial := pki.SerialHex(cert.SerialNumber)
	var out agentwire.JoinResponse
	var lost bool
	err = a.withRetry(ctx, func(q *store.Queries) error {
		out, lost = agentwire.JoinResponse{}, false
		cur, err := q.ActiveCert(ctx, store.KindServer, agentPrefix+server)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.Serial != serial) {
			lost = true // superseded or removed since checkAgent
			return nil
		}
		if err != nil {
			return err
		}
		c, old, err := a.replaceAgentCert(ctx, q, u, server, csr)
		if err != nil {
			return err
		}
		if err := a.audit(ctx, q, ActionAgentRenew, server, map[string]any{"serial": c.Serial, "superseded": old, "not_after": c.NotAfter.UTC()}); err != nil {
			return err
		}
		if _, err := a.signCRL(ctx, q, u); err != nil { // records the change
			return err
		}
		out = agentwire.JoinResponse{Server: server, Cert: []byte(c.CertPEM), CA: trust}
		return nil
	})
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	if lost {
		return agentwire.JoinResponse{}, a.refuseAgent(ctx, server, agentSuperseded, map[string]any{"serial": serial, "why": "renewal raced"}, from)
	}
	a.log.InfoContext(ctx, "agent certificate renewed", "server", server, "from", from)
	if _, err := a.publishCRL(ctx); err != nil {
		a.log.WarnContext(ctx, "agent renewed, but writing crl.pem failed", "server", server, "err", err)
	}
	return out, nil
}

// redeliverAgent answers a renewal whose answer was lost: cert is a
// superseded agent certificate of server, and if the server's current
// agent certificate is for the CSR's key, it is sent again (audited);
// anything else is refused as superseded.
func (a *Authority) redeliverAgent(ctx context.Context, cert *x509.Certificate, server, from string, csr *x509.CertificateRequest, trust []byte, detail map[string]any) (agentwire.JoinResponse, error) {
	cur, err := a.db.Q().ActiveCert(ctx, store.KindServer, agentPrefix+server)
	if errors.Is(err, store.ErrNotFound) {
		return agentwire.JoinResponse{}, a.refuseAgent(ctx, server, agentSuperseded, detail, from)
	}
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	c, err := pki.ParseCert([]byte(cur.CertPEM))
	if err != nil {
		return agentwire.JoinResponse{}, fmt.Errorf("reading agent certificate: %w", err)
	}
	if !bytes.Equal(c.RawSubjectPublicKeyInfo, csr.RawSubjectPublicKeyInfo) || !a.now().Before(c.NotAfter) {
		return agentwire.JoinResponse{}, a.refuseAgent(ctx, server, agentSuperseded, detail, from)
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, ActionAgentRenew, server, map[string]any{"serial": cur.Serial, "redelivered": true, "caller": pki.SerialHex(cert.SerialNumber)})
	})
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	a.log.InfoContext(ctx, "renewed agent certificate sent again", "server", server, "from", from)
	return agentwire.JoinResponse{Server: server, Cert: []byte(cur.CertPEM), CA: trust}, nil
}
