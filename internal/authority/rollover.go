package authority

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// The CA rollover renews the CA's certificate without changing its key:
// the same key and subject, a new serial and validity, the same key
// identifier. The key stays because every stored key is sealed under it
// (pki.NewSealer) and because everything it signed (user, server and
// agent certificates, CRLs) then verifies under the old certificate and
// the new one alike: nothing is re-issued. A rollover runs in three steps:
// start stores the new certificate beside the old one; every ca.crt a
// client reads from then on (profiles, bundles) holds both, old first, and
// the servers' ca.crt (agents' states, server files) holds the new one
// alone, because OpenVPN as a server refuses a CA file with two
// certificates of one subject ("only 1 of 2 entries were valid X509
// names") and needs only one to verify clients. status tells how many
// agents hold the server's new ca.crt; finish makes the new certificate
// the CA certificate and profiles drop the old one (servers change
// nothing then). Changing the key or its algorithm is not what this does.

// Errors of the rollover.
var (
	ErrRolloverUnderway = fault.New(fault.Conflict, "rollover_under_way", "a CA rollover is under way already")
	ErrNoRollover       = fault.New(fault.Conflict, "no_rollover", "no CA rollover is under way")
)

// ChangeCA is the outbox kind of a change of the CA certificates every
// ca.crt holds; subject "ca".
const ChangeCA = "ca"

// Rollover steps, RolloverView.Step.
const (
	StepStart  = "start"  // no rollover under way
	StepWait   = "wait"   // agents still hold the old ca.crt
	StepFinish = "finish" // every reporting agent holds the new one
)

// CACertView describes one CA certificate.
type CACertView struct {
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"` // of the DER
}

// RolloverView is the CA's rollover state.
type RolloverView struct {
	UnderWay  bool        `json:"under_way"`
	Current   CACertView  `json:"current"`
	Next      *CACertView `json:"next,omitempty"`
	StartedAt time.Time   `json:"started_at,omitzero"`
	// Agents is how many agents reported; Updated how many of them hold
	// the servers' ca.crt rendered now (the new certificate during a
	// rollover).
	Agents  int    `json:"agents"`
	Updated int    `json:"updated"`
	Step    string `json:"step"`
}

// StartRollover makes the CA's renewed certificate, valid days from now
// (0: DefaultCADays, checked as init's), and keeps it beside the current
// one; it needs the CA unlocked. From then on profiles and bundles hold
// both and the servers' files the new one, and agents are told (outbox;
// they install it in their restart window). Audited: ca.rollover.start.
func (a *Authority) StartRollover(ctx context.Context, days int) (RolloverView, error) {
	if days == 0 {
		days = DefaultCADays
	}
	if err := ValidCADays(days); err != nil {
		return RolloverView{}, err
	}
	u, err := a.ca()
	if err != nil {
		return RolloverView{}, err
	}
	r, err := a.rollover(ctx)
	if err != nil {
		return RolloverView{}, err
	}
	if r.Next != "" {
		return RolloverView{}, ErrRolloverUnderway
	}
	cur, err := pki.ParseCert([]byte(r.Current))
	if err != nil {
		return RolloverView{}, fmt.Errorf("reading CA certificate: %w", err)
	}
	next, err := (&pki.CA{Cert: cur, Key: u.ca.Key}).Renew(days, a.now())
	if err != nil {
		return RolloverView{}, err
	}
	if !next.NotAfter.After(cur.NotAfter) {
		return RolloverView{}, fmt.Errorf("%w: days %d: the new CA certificate would end on %s, not after the current one (%s)",
			account.ErrInvalid, days, next.NotAfter.UTC().Format(time.DateOnly), cur.NotAfter.UTC().Format(time.DateOnly))
	}
	nextPEM := string(pki.CertPEM(next))
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.StartRollover(ctx, nextPEM, a.now().Unix()); errors.Is(err, store.ErrConflict) {
			return ErrRolloverUnderway
		} else if err != nil {
			return err
		}
		detail := map[string]any{"serial": pki.SerialHex(next.SerialNumber), "not_after": next.NotAfter.UTC().Format(time.RFC3339)}
		if err := a.audit(ctx, q, "ca.rollover.start", cur.Subject.CommonName, detail); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeCA, "ca", map[string]any{"op": "rollover.start"})
	})
	if err != nil {
		return RolloverView{}, err
	}
	a.signWith(u, next, nil)
	a.refreshAfter(ctx, "ca.rollover.start") // bundle folders' ca.crt holds both (refresh.go)
	return a.RolloverStatus(ctx)
}

// FinishRollover makes the renewed certificate the CA certificate; the
// old one leaves the profiles rendered afterwards (the servers hold the new
// one since start). It needs no passphrase. Audited: ca.rollover.finish.
func (a *Authority) FinishRollover(ctx context.Context) (RolloverView, error) {
	var next *x509.Certificate
	err := a.withRetry(ctx, func(q *store.Queries) error {
		r, err := q.GetRollover(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotInitialized
		}
		if err != nil {
			return err
		}
		if r.Next == "" {
			return ErrNoRollover
		}
		cur, err := pki.ParseCert([]byte(r.Current))
		if err != nil {
			return fmt.Errorf("reading CA certificate: %w", err)
		}
		n, err := pki.ParseCert([]byte(r.Next))
		if err != nil {
			return fmt.Errorf("reading the new CA certificate: %w", err)
		}
		if err := pki.SameCA(cur, n); err != nil {
			return err
		}
		if err := q.FinishRollover(ctx, r.Next); err != nil {
			return err
		}
		detail := map[string]any{"serial": pki.SerialHex(n.SerialNumber), "replaced": pki.SerialHex(cur.SerialNumber),
			"not_after": n.NotAfter.UTC().Format(time.RFC3339)}
		if err := a.audit(ctx, q, "ca.rollover.finish", cur.Subject.CommonName, detail); err != nil {
			return err
		}
		next = n
		return a.recordChange(ctx, q, ChangeCA, "ca", map[string]any{"op": "rollover.finish"})
	})
	if err != nil {
		return RolloverView{}, err
	}
	if u, err := a.ca(); err == nil {
		a.signWith(u, next, pki.CertPEM(next))
	}
	a.refreshAfter(ctx, "ca.rollover.finish") // bundle folders' ca.crt drops the old one
	return a.RolloverStatus(ctx)
}

// rollover reads the CA's certificates: the current one and, during a
// rollover, the next (ErrNotInitialized before init).
func (a *Authority) rollover(ctx context.Context) (store.Rollover, error) {
	r, err := a.db.Q().GetRollover(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return store.Rollover{}, ErrNotInitialized
	}
	return r, err
}

// RolloverStatus tells the CA's certificates, whether a rollover is under
// way, how many agents hold the ca.crt rendered now, and the next step.
func (a *Authority) RolloverStatus(ctx context.Context) (RolloverView, error) {
	r, err := a.rollover(ctx)
	if err != nil {
		return RolloverView{}, err
	}
	var v RolloverView
	if v.Current, err = caCertView(r.Current); err != nil {
		return RolloverView{}, err
	}
	v.Step = StepStart
	if r.Next != "" {
		n, err := caCertView(r.Next)
		if err != nil {
			return RolloverView{}, err
		}
		v.UnderWay, v.Next, v.StartedAt = true, &n, time.Unix(r.StartedAt, 0).UTC()
	}
	if v.Agents, v.Updated, err = a.agentsHolding(ctx, serverCAOf(r)); err != nil {
		return RolloverView{}, err
	}
	if v.UnderWay {
		v.Step = StepFinish
		if v.Updated < v.Agents {
			v.Step = StepWait
		}
	}
	return v, nil
}

// agentsHolding counts the agents that reported, and those whose ca.crt
// is caPEM (by the SHA-256 of each file they report).
func (a *Authority) agentsHolding(ctx context.Context, caPEM []byte) (agents, holding int, err error) {
	rows, err := a.db.Q().AgentStatuses(ctx)
	if err != nil {
		return 0, 0, err
	}
	sum := sha256.Sum256(caPEM)
	want := hex.EncodeToString(sum[:])
	for _, row := range rows {
		var hashes map[string]string
		if json.Unmarshal([]byte(row.Hashes), &hashes) != nil {
			continue
		}
		agents++
		if hashes["ca.crt"] == want {
			holding++
		}
	}
	return agents, holding, nil
}

func caCertView(pemText string) (CACertView, error) {
	c, err := pki.ParseCert([]byte(pemText))
	if err != nil {
		return CACertView{}, fmt.Errorf("reading CA certificate: %w", err)
	}
	sum := sha256.Sum256(c.Raw)
	return CACertView{Serial: pki.SerialHex(c.SerialNumber), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		SHA256: hex.EncodeToString(sum[:])}, nil
}

// trustPEM is what the ca.crt of profiles and bundles holds: the CA
// certificate and, during a rollover, the renewed one after it.
func (a *Authority) trustPEM(ctx context.Context) ([]byte, error) {
	r, err := a.rollover(ctx)
	if err != nil {
		return nil, err
	}
	return trustOf(r), nil
}

func trustOf(r store.Rollover) []byte {
	out := []byte(r.Current)
	if r.Next != "" {
		if !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		out = append(out, r.Next...)
	}
	return out
}

// CATrustPEM is the CA certificate and, during a rollover, the renewed
// one after it: what a TLS endpoint of the control plane trusts (the
// agent listener's client CAs).
func (a *Authority) CATrustPEM(ctx context.Context) ([]byte, error) { return a.trustPEM(ctx) }

// followCA brings the unlocked CA in line with the database when another
// process started or finished a rollover: it signs with the newest
// certificate and presents the CA certificate of the row.
func (a *Authority) followCA(ctx context.Context) error {
	u, err := a.ca()
	if err != nil {
		return err
	}
	r, err := a.db.Q().GetRollover(ctx)
	if err != nil {
		return err
	}
	newest := r.Current
	if r.Next != "" {
		newest = r.Next
	}
	if string(pki.CertPEM(u.ca.Cert)) == newest && string(u.certPEM) == r.Current {
		return nil
	}
	n, err := pki.ParseCert([]byte(newest))
	if err != nil {
		return fmt.Errorf("reading the CA certificate: %w", err)
	}
	if err := pki.MatchesCert(u.ca.Key, n); err != nil {
		return fmt.Errorf("CA key: %w", err)
	}
	a.signWith(u, n, []byte(r.Current))
	return nil
}

// serverCAPEM is the ca.crt of the servers' files: the newest CA
// certificate alone (OpenVPN's server refuses two of one subject; either
// verifies every client).
func (a *Authority) serverCAPEM(ctx context.Context) ([]byte, error) {
	r, err := a.rollover(ctx)
	if err != nil {
		return nil, err
	}
	return serverCAOf(r), nil
}

func serverCAOf(r store.Rollover) []byte {
	if r.Next != "" {
		return []byte(r.Next)
	}
	return []byte(r.Current)
}

// rendering returns u with the ca.crt to render (trustPEM) read now, for
// one render or one batch of them.
func (a *Authority) rendering(ctx context.Context, u *unlockedCA) (*unlockedCA, error) {
	t, err := a.trustPEM(ctx)
	if err != nil {
		return nil, err
	}
	c := *u
	c.trustPEM = t
	return &c, nil
}

// adoptNext makes u sign with the renewed certificate when a rollover is
// under way, so what it signs meanwhile is not cut at the old
// certificate's end (issuer and key identifier are the same).
func (a *Authority) adoptNext(ctx context.Context, u *unlockedCA) error {
	r, err := a.db.Q().GetRollover(ctx)
	if err != nil || r.Next == "" {
		return err
	}
	n, err := pki.ParseCert([]byte(r.Next))
	if err != nil {
		return fmt.Errorf("reading the new CA certificate: %w", err)
	}
	u.ca = &pki.CA{Cert: n, Key: u.ca.Key}
	return nil
}

// signWith replaces the unlocked CA with one that signs with cert (and,
// when certPEM is set, presents it as the CA certificate).
func (a *Authority) signWith(u *unlockedCA, cert *x509.Certificate, certPEM []byte) {
	c := *u
	c.ca = &pki.CA{Cert: cert, Key: u.ca.Key}
	if certPEM != nil {
		c.certPEM = certPEM
	}
	a.setUnlocked(&c)
}

// renderedCA is the ca.crt a render puts in a profile or bundle.
func (u *unlockedCA) renderedCA() []byte {
	if u.trustPEM != nil {
		return u.trustPEM
	}
	return u.certPEM
}
