package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestAgentJoin: a join token works once, over real TLS, and the
// certificate it yields is an agent certificate (no VPN user's) that
// passes agentOnly for its own server; a token used twice, expired, or
// guessed is refused with one answer, and each refusal is audited with
// its reason.
func TestAgentJoin(t *testing.T) {
	e := newAgentEnv(t)
	tok := e.enroll(t, "dc1")
	var first joined
	e.refused(t, "agent.join", "", func() { first = e.join(t, tok) })
	t.Run("ok/join", func(t *testing.T) {
		if first.status != http.StatusOK || first.res.Server != "dc1" {
			t.Fatalf("join: got %d for %q, want 200 for dc1", first.status, first.res.Server)
		}
		c := first.pair.Leaf
		if c == nil {
			c, _ = pki.ParseCert(first.res.Cert)
		}
		if !pki.IsAgent(c) || c.Subject.CommonName != "agent:dc1" {
			t.Errorf("joined certificate: IsAgent %v, CN %q; want an agent certificate agent:dc1", pki.IsAgent(c), c.Subject.CommonName)
		}
		if ca, _ := pki.ParseCert(first.res.CA); ca == nil || !bytes.Equal(ca.Raw, e.ca.Raw) {
			t.Error("join response: the CA to pin is not the CA")
		}
	})
	t.Run("ok/own server", func(t *testing.T) {
		if got := e.get(t, first.pair, "dc1"); !admitted(got) {
			t.Errorf("dc1's agent on dc1's state: got %d, want it admitted", got)
		}
	})
	fp, _, _ := agentwire.ParseToken(tok)
	guess := make([]byte, 32)
	rand.Read(guess)
	for _, tc := range []struct {
		name, reason, token string
		before              func()
	}{
		{"fail/used twice", "used", tok, nil},
		{"fail/guessed", "unknown", agentwire.FormatToken(fp, base64.RawURLEncoding.EncodeToString(guess)), nil},
		{"fail/expired", "expired", e.enroll(t, "dc1"), func() { e.skew.Store(int64(61 * time.Minute)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
				defer e.skew.Store(0)
			}
			var got joined
			e.refused(t, "agent.join.refused", tc.reason, func() { got = e.join(t, tc.token) })
			if got.status != http.StatusUnauthorized || got.code != "join_refused" {
				t.Errorf("join: got %d %q, want 401 join_refused", got.status, got.code)
			}
		})
	}
	t.Run("ok/no secret in the audit log", func(t *testing.T) {
		_, secret, _ := agentwire.ParseToken(tok)
		evs, _ := e.a.Audit(context.Background(), authority.AuditFilter{Limit: 1000})
		for _, ev := range evs {
			if bytes.Contains(ev.Detail, []byte(secret)) || bytes.Contains([]byte(ev.Target), []byte(secret)) {
				t.Errorf("audit event %s holds the join secret: %s", ev.Action, ev.Detail)
			}
		}
	})
}

// TestAgentJoinBadCSR: a join whose CSR is not valid is bad input (400)
// and leaves the token unspent.
func TestAgentJoinBadCSR(t *testing.T) {
	e := newAgentEnv(t)
	tok := e.enroll(t, "dc1")
	_, secret, _ := agentwire.ParseToken(tok)
	for _, body := range []string{
		`{"secret":"` + secret + `","csr":"` + base64.StdEncoding.EncodeToString([]byte("not a CSR")) + `"}`,
		`{"secret":"` + secret + `"}`,
		`{"secret":"` + secret + `","csr":"AA==","more":1}`,
	} {
		resp, err := e.client(nil).Post(e.url+agentwire.PathJoin, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("join with %s: got %d, want 400", body, resp.StatusCode)
		}
	}
	if got := e.join(t, tok); got.status != http.StatusOK {
		t.Errorf("join after bad requests: got %d, want 200 (the token unspent)", got.status)
	}
}

// TestAgentOnly: agentOnly refuses, with 403 and an audit row each, every
// certificate but the current agent certificate of the path's server: no
// certificate, a VPN user's, another server's agent, a superseded agent
// (re-enrolled and joined again) and a removed server's agent, at once.
func TestAgentOnly(t *testing.T) {
	e := newAgentEnv(t)
	ctx := context.Background()
	dc1 := e.join(t, e.enroll(t, "dc1"))
	dc2 := e.join(t, e.enroll(t, "dc2"))
	dc3 := e.join(t, e.enroll(t, "dc3"))
	left := e.enroll(t, "dc3") // unused when dc3 goes
	alice := e.userCert(t, "alice")
	if dc1.pair == nil || dc2.pair == nil || dc3.pair == nil {
		t.Fatal("a join failed")
	}
	again := e.join(t, e.enroll(t, "dc2"))
	if _, err := e.a.RemoveServer(ctx, "dc3"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, reason, server string
		cert                 *joined
	}{
		{"fail/no certificate", "no certificate", "dc1", &joined{}},
		{"fail/vpn user", "not an agent", "dc1", &joined{pair: alice}},
		{"fail/other server", "wrong server", "dc2", &dc1},
		{"fail/superseded", "superseded", "dc2", &dc2},
		{"fail/removed", "removed", "dc3", &dc3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got int
			e.refused(t, "agent.refused", tc.reason, func() { got = e.get(t, tc.cert.pair, tc.server) })
			if got != http.StatusForbidden {
				t.Errorf("GET %s state: got %d, want 403", tc.server, got)
			}
		})
	}
	t.Run("ok/current agents", func(t *testing.T) {
		for server, j := range map[string]joined{"dc1": dc1, "dc2": again} {
			if got := e.get(t, j.pair, server); !admitted(got) {
				t.Errorf("%s's current agent: got %d, want it admitted", server, got)
			}
		}
	})
	t.Run("fail/removed server's token", func(t *testing.T) {
		var got joined
		e.refused(t, "agent.join.refused", "unknown", func() { got = e.join(t, left) })
		if got.status != http.StatusUnauthorized {
			t.Errorf("join with a removed server's token: got %d, want 401", got.status)
		}
	})
}
