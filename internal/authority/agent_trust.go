package authority

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ErrAgentRefused is the answer to a request on the agent listener whose
// client certificate is not the current agent certificate of the server
// it asks about; the text after it says why, the audit log says more.
var ErrAgentRefused = fault.New(fault.Unauthorized, "agent_refused", "agent certificate refused")

// Why an agent certificate is refused, as the audit log records it
// (detail "reason") and the client reads it.
const (
	agentNoCert      = "no certificate"
	agentNotAgent    = "not an agent"
	agentWrongServer = "wrong server"
	agentSuperseded  = "superseded"
	agentRemoved     = "removed"
	agentExpired     = "expired"
)

var agentRefusalText = map[string]string{
	agentNoCert:      "an agent certificate is required",
	agentNotAgent:    "not an agent certificate of this control plane",
	agentWrongServer: "this agent certificate is for another server",
	agentSuperseded:  "this agent certificate was replaced by a newer join",
	agentRemoved:     "this agent certificate was revoked (its server was removed)",
	agentExpired:     "this agent certificate has expired",
}

// AgentServer checks the verified client certificate presented on the
// agent listener and returns the server whose agent it identifies.
//
// The TLS handshake verified the chain already; this checks again that
// the CA signed it, that it is an agent certificate (pki.IsAgent: the
// agent policy, no extended key usage, so no VPN user's certificate
// passes), and that its serial is, in the database, the ACTIVE
// certificate of kind server and subject "agent:NAME" with the same DER:
// a superseded agent or one of a removed server is refused at once. A
// refusal is audited (agent.refused, with the reason) and answered
// ErrAgentRefused.
func (a *Authority) AgentServer(ctx context.Context, cert *x509.Certificate, from string) (string, error) {
	name, why, detail, err := a.checkAgent(ctx, cert)
	if err != nil {
		return "", err
	}
	if why != "" {
		return "", a.refuseAgent(ctx, name, why, detail, from)
	}
	return name, nil
}

// AuthorizeAgent admits cert to the agent listener's routes of server:
// AgentServer must name server, or the request is refused and audited.
func (a *Authority) AuthorizeAgent(ctx context.Context, cert *x509.Certificate, server, from string) error {
	name, err := a.AgentServer(ctx, cert, from)
	if err != nil {
		return err
	}
	if name != server {
		return a.refuseAgent(ctx, name, agentWrongServer, map[string]any{"asked": server, "serial": pki.SerialHex(cert.SerialNumber)}, from)
	}
	return nil
}

// checkAgent is AgentServer's verdict: the server's name, or why cert is
// refused, with detail for the audit log.
func (a *Authority) checkAgent(ctx context.Context, cert *x509.Certificate) (name, why string, detail map[string]any, err error) {
	if cert == nil {
		return "", agentNoCert, nil, nil
	}
	serial := pki.SerialHex(cert.SerialNumber)
	detail = map[string]any{"serial": serial, "cn": cert.Subject.CommonName}
	if !pki.IsAgent(cert) {
		return "", agentNotAgent, detail, nil
	}
	ca, err := a.caCert(ctx)
	if err != nil {
		return "", "", nil, err
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		detail["why"] = "not signed by this CA"
		return "", agentNotAgent, detail, nil
	}
	c, err := a.db.Q().CertBySerial(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		detail["why"] = "no such certificate on record"
		return "", agentNotAgent, detail, nil
	}
	if err != nil {
		return "", "", nil, err
	}
	name, ok := strings.CutPrefix(c.Subject, agentPrefix)
	if !ok || c.Kind != store.KindServer || !sameCert(c.CertPEM, cert) {
		detail["why"] = "not an agent certificate on record"
		return "", agentNotAgent, detail, nil
	}
	switch {
	case c.State != store.StateActive && c.Reason == pki.CessationOfOperation.String():
		return name, agentRemoved, detail, nil
	case c.State != store.StateActive:
		return name, agentSuperseded, detail, nil
	case !a.now().Before(c.NotAfter):
		return name, agentExpired, detail, nil
	}
	return name, "", nil, nil
}

// sameCert tells whether the recorded PEM is cert.
func sameCert(recorded string, cert *x509.Certificate) bool {
	c, err := pki.ParseCert([]byte(recorded))
	return err == nil && bytes.Equal(c.Raw, cert.Raw)
}

// caCert is the CA certificate, as the database holds it (during a CA
// rollover the unlocked CA signs with the renewed one: rollover.go).
func (a *Authority) caCert(ctx context.Context) (*x509.Certificate, error) {
	b, err := a.CACertPEM(ctx)
	if err != nil {
		return nil, err
	}
	c, err := pki.ParseCert(b)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificate: %w", err)
	}
	return c, nil
}

// refuseAgent audits a refused agent request (target: the server the
// certificate names, when it names one) and returns the refusal. A
// failure to audit is logged: the request is refused all the same.
func (a *Authority) refuseAgent(ctx context.Context, server, why string, detail map[string]any, from string) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["reason"] = why
	if ActorFrom(ctx).Name == "unknown" {
		ctx = WithActor(ctx, Actor{Name: "agent-listener", Source: from})
	}
	err := a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "agent.refused", server, detail)
	})
	if err != nil {
		a.log.ErrorContext(ctx, "auditing a refused agent", "err", err)
	}
	a.log.InfoContext(ctx, "agent refused", "reason", why, "server", server, "from", from)
	return fmt.Errorf("%w: %s", ErrAgentRefused, agentRefusalText[why])
}

// endAgent revokes server's agent certificate (cessation of operation: it
// is refused at once) and deletes its join tokens not used yet, in q, as
// the server is removed. It returns the serial revoked, "" when none.
func (a *Authority) endAgent(ctx context.Context, q *store.Queries, server string) (string, error) {
	if _, err := q.DeleteAgentJoins(ctx, server); err != nil {
		return "", err
	}
	c, err := q.ActiveCert(ctx, store.KindServer, agentPrefix+server)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return c.Serial, q.EndCert(ctx, c.Serial, store.StateRevoked, a.now().Unix(), pki.CessationOfOperation.String())
}
