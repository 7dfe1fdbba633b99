package authority

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// JoinTokenTTL is how long a join token of EnrollServer lasts.
const JoinTokenTTL = time.Hour

// JoinToken is a one-time token that lets the agent of Server join.
type JoinToken struct {
	Server  string
	Token   string // agentwire.FormatToken: CA fingerprint and secret
	Expires time.Time
}

// ErrJoinRefused is the one answer to a join token that is unknown, used
// or expired: which of them goes to the audit log only, so a guesser
// learns nothing. The agent prints it to the operator who must act, hence
// the command.
var ErrJoinRefused = fault.New(fault.Unauthorized, "join_refused",
	"join token refused: unknown, already used or expired; make a new one with vpnkeys server enroll NAME")

// errBadCSR is a join request whose certificate request is unusable.
var errBadCSR = fault.New(fault.Invalid, "invalid", "the join request's certificate request is not valid")

// Why a join token is refused, as the audit log records it.
const (
	joinUnknown = "unknown"
	joinUsed    = "used"
	joinExpired = "expired"
)

// maxSecretLen bounds what is hashed and looked up: a secret is 43
// characters.
const maxSecretLen = 128

// agentPrefix makes an agent certificate's subject (and common name) from
// its server's name: "agent:dc1". No server name holds a ':'.
const agentPrefix = "agent:"

// joinActor is who joins: whoever holds the token, from their address.
func joinActor(ctx context.Context, from string) context.Context {
	return WithActor(ctx, Actor{Name: "agent-join", Source: from})
}

// tokenID is a short, harmless handle on a token for the audit log (a
// prefix of its hash), so an enrolment and the join that spent it can be
// matched.
func tokenID(hash string) string { return hash[:12] }

// EnrollServer makes a one-time join token for the agent of server.
func (a *Authority) EnrollServer(ctx context.Context, server string) (JoinToken, error) {
	if err := account.ValidName(server); err != nil {
		return JoinToken{}, fmt.Errorf("server %w", err)
	}
	caPEM, err := a.CACertPEM(ctx)
	if err != nil {
		return JoinToken{}, err
	}
	ca, err := pki.ParseCert(caPEM)
	if err != nil {
		return JoinToken{}, fmt.Errorf("reading CA certificate: %w", err)
	}
	secret, err := newSecret("")
	if err != nil {
		return JoinToken{}, err
	}
	now := a.now()
	tok := JoinToken{Server: server, Token: agentwire.FormatToken(agentwire.Fingerprint(ca.Raw), secret),
		Expires: time.Unix(now.Add(JoinTokenTTL).Unix(), 0).UTC()}
	h := hashSecret(secret)
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := q.GetServer(ctx, server); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrServerNotFound, server)
		} else if err != nil {
			return err
		}
		j := store.AgentJoin{Hash: h, Server: server, CreatedAt: now.Unix(), ExpiresAt: tok.Expires.Unix()}
		if err := q.InsertAgentJoin(ctx, j); err != nil {
			return err
		}
		return a.audit(ctx, q, "agent.enroll", server, map[string]any{"token": tokenID(h), "expires": tok.Expires.Format(time.RFC3339)})
	})
	if err != nil {
		return JoinToken{}, err
	}
	return tok, nil
}

// JoinAgent spends a join token and issues the agent's certificate for
// the key of the CSR. from is the peer's address, for the audit log.
//
// In one transaction: the token is read (holding its row), checked,
// spent; the agent certificate is issued and recorded as kind server,
// subject "agent:SERVER"; the server's previous agent certificate is
// revoked (superseded), so it is refused at once, and the CRL re-signed.
// A refused token is audited with the reason and answered ErrJoinRefused.
func (a *Authority) JoinAgent(ctx context.Context, req agentwire.JoinRequest, from string) (agentwire.JoinResponse, error) {
	ctx = joinActor(ctx, from)
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	u, err := a.ca()
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	trust, err := a.trustPEM(ctx) // both certificates during a CA rollover
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	h := hashSecret(req.Secret)
	var out agentwire.JoinResponse
	var refused string
	var resigned bool
	err = a.withRetry(ctx, func(q *store.Queries) error {
		out, refused, resigned = agentwire.JoinResponse{}, "", false
		j, why, err := a.checkJoin(ctx, q, h, len(req.Secret))
		if err != nil {
			return err
		}
		if why != "" {
			refused = why
			return a.audit(ctx, q, "agent.join.refused", j.Server, map[string]any{"reason": why, "token": tokenID(h)})
		}
		c, old, err := a.issueAgent(ctx, q, u, j, csr)
		if err != nil {
			return err
		}
		detail := map[string]any{"serial": c.Serial, "token": tokenID(h)}
		if old != "" {
			detail["superseded"] = old
		}
		if err := a.audit(ctx, q, "agent.join", j.Server, detail); err != nil {
			return err
		}
		if old != "" {
			if _, err := a.signCRL(ctx, q, u); err != nil {
				return err
			}
			resigned = true
		}
		out = agentwire.JoinResponse{Server: j.Server, Cert: []byte(c.CertPEM), CA: trust}
		return nil
	})
	if err != nil {
		return agentwire.JoinResponse{}, err
	}
	if refused != "" {
		a.log.InfoContext(ctx, "join token refused", "reason", refused, "from", from)
		return agentwire.JoinResponse{}, ErrJoinRefused
	}
	if resigned {
		if _, err := a.publishCRL(ctx); err != nil {
			a.log.WarnContext(ctx, "agent joined, but writing crl.pem failed", "server", out.Server, "err", err)
		}
	}
	return out, nil
}

// checkJoin reads the token of hash inside q and says why it is refused
// ("" when it is good). The token's server is known unless it is unknown.
func (a *Authority) checkJoin(ctx context.Context, q *store.Queries, hash string, secretLen int) (store.AgentJoin, string, error) {
	if secretLen == 0 || secretLen > maxSecretLen {
		return store.AgentJoin{}, joinUnknown, nil
	}
	j, err := q.AgentJoinByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.AgentJoin{}, joinUnknown, nil
	}
	if err != nil {
		return store.AgentJoin{}, "", err
	}
	switch {
	case j.UsedAt != 0:
		return j, joinUsed, nil
	case a.now().Unix() >= j.ExpiresAt:
		return j, joinExpired, nil
	}
	if _, err := q.GetServer(ctx, j.Server); errors.Is(err, store.ErrNotFound) {
		return j, joinUnknown, nil
	} else if err != nil {
		return store.AgentJoin{}, "", err
	}
	return j, "", nil
}

// issueAgent signs and records the agent certificate of j's server for
// the CSR's key, revokes the server's previous one (superseded) and
// spends the token, all in q. It returns the new record and the serial
// it superseded ("" when none).
func (a *Authority) issueAgent(ctx context.Context, q *store.Queries, u *unlockedCA, j store.AgentJoin, csr *x509.CertificateRequest) (store.Cert, string, error) {
	c, old, err := a.replaceAgentCert(ctx, q, u, j.Server, csr)
	if err != nil {
		return store.Cert{}, "", err
	}
	if err := q.SpendAgentJoin(ctx, j.Hash, a.now().Unix(), c.Serial); err != nil {
		return store.Cert{}, "", err
	}
	return c, old, nil
}

// replaceAgentCert signs and records the agent certificate of server for
// the CSR's key and revokes the server's previous one (superseded), in q:
// what a join and a renewal (agent_renew.go) share. It returns the new
// record and the serial it superseded ("" when none).
func (a *Authority) replaceAgentCert(ctx context.Context, q *store.Queries, u *unlockedCA, server string, csr *x509.CertificateRequest) (store.Cert, string, error) {
	now := a.now()
	subject := agentPrefix + server
	cert, err := u.ca.Issue(pki.Leaf{Role: pki.Agent, CommonName: subject, PublicKey: csr.PublicKey, Days: a.opts.LeafDays, Now: now})
	if err != nil {
		return store.Cert{}, "", err
	}
	c := store.Cert{Serial: pki.SerialHex(cert.SerialNumber), Kind: store.KindServer, Subject: subject,
		CertPEM: string(pki.CertPEM(cert)), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, State: store.StateActive, CreatedAt: now}
	var old string
	if prev, err := q.ActiveCert(ctx, store.KindServer, subject); err == nil {
		if err := q.EndCert(ctx, prev.Serial, store.StateRevoked, now.Unix(), pki.Superseded.String()); err != nil {
			return store.Cert{}, "", err
		}
		old = prev.Serial
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Cert{}, "", err
	}
	if err := q.InsertCert(ctx, c); err != nil {
		return store.Cert{}, "", err
	}
	return c, old, nil
}

// parseCSR reads a join request's PKCS#10 request and checks its
// signature (the agent holds the key) and its key type.
func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: it is missing", errBadCSR)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: its signature does not verify", errBadCSR)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("%w: an RSA key needs at least 2048 bits", errBadCSR)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported key type %T", errBadCSR, k)
	}
	return csr, nil
}
