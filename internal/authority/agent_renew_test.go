package authority

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestRenewAgent, on SQLite and PostgreSQL: the current agent certificate
// renews itself: a new active certificate for the new key, the old one
// revoked (superseded) and on the re-signed CRL, audited, a change
// recorded; expiring and server status show it by server. The superseded
// certificate, another server's agent and bad requests are refused with
// nothing issued; two renewals racing with one certificate issue one.
func TestRenewAgent(t *testing.T) {
	for name, dsn := range map[string]func() string{
		"sqlite":   func() string { return filepath.Join(t.TempDir(), "vpnkeys.db") },
		"postgres": func() string { return pgtest.Start(t) },
	} {
		t.Run(name, func(t *testing.T) {
			a, db := openAgentAuthority(t, dsn())
			ctx := context.Background()
			if _, err := a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "127.0.0.1:1195"}); err != nil {
				t.Fatal(err)
			}
			cur, curKey := joinWithKey(t, a, "dc1")
			dc2, _ := joinWithKey(t, a, "dc2")
			issued := func() int {
				certs, err := db.Q().CertsOf(ctx, store.KindServer, "agent:dc1")
				if err != nil {
					t.Fatal(err)
				}
				return len(certs)
			}
			renewRefused(t, a, issued, cur, curKey, dc2)
			version, _, _ := a.Changes(ctx, 0, 1)
			newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			res, err := a.RenewAgent(ctx, cur, "dc1", "192.0.2.1", csrOf(t, newKey))
			if err != nil {
				t.Fatalf("ok/renew: %v", err)
			}
			renewed, err := pki.ParseCert(res.Cert)
			if err != nil || !pki.IsAgent(renewed) || res.Server != "dc1" || len(res.CA) == 0 {
				t.Fatalf("ok/renew: got %+v (%v), want an agent certificate of dc1 and the CA", res, err)
			}
			oldSerial, newSerial := pki.SerialHex(cur.SerialNumber), pki.SerialHex(renewed.SerialNumber)
			if act, err := db.Q().ActiveCert(ctx, store.KindServer, "agent:dc1"); err != nil || act.Serial != newSerial {
				t.Errorf("active agent certificate: got %s (%v), want %s", act.Serial, err, newSerial)
			}
			if old, _ := db.Q().CertBySerial(ctx, oldSerial); old.State != store.StateRevoked || old.Reason != pki.Superseded.String() {
				t.Errorf("renewed certificate: got %s %q, want revoked, superseded", old.State, old.Reason)
			}
			crl, err := a.CRL(ctx)
			if err != nil || !crlLists(t, crl.PEM, cur) {
				t.Errorf("the CRL does not list the superseded agent certificate (%v)", err)
			}
			if v, changes, _ := a.Changes(ctx, version, 10); v <= version || len(changes) == 0 || changes[0].Kind != ChangeCRL {
				t.Errorf("changes after the renewal: got %+v, want the CRL's", changes)
			}
			evs, _ := a.Audit(ctx, AuditFilter{Action: ActionAgentRenew})
			var d struct{ Serial, Superseded string }
			if len(evs) != 1 || json.Unmarshal(evs[0].Detail, &d) != nil || d.Serial != newSerial || d.Superseded != oldSerial {
				t.Errorf("agent.renew audit: got %+v, want one with serial %s superseding %s", evs, newSerial, oldSerial)
			}
			if _, err := a.RenewAgent(ctx, cur, "dc1", "192.0.2.1", newCSR(t)); !errors.Is(err, ErrAgentRefused) {
				t.Errorf("fail/renew with the superseded certificate: got %v, want ErrAgentRefused", err)
			}
			// The answer was lost: the superseded certificate with the new
			// key's CSR gets the same certificate again, nothing issued.
			n := issued()
			again, err := a.RenewAgent(ctx, cur, "dc1", "192.0.2.1", csrOf(t, newKey))
			if err != nil || string(again.Cert) != string(res.Cert) || issued() != n {
				t.Errorf("ok/answer sent again: got %v, %d certificates (want the same certificate, %d)", err, issued(), n)
			}
			checkAgentViews(t, a, renewed)
			renewRace(t, a, renewed)
		})
	}
}

// renewRefused: bad CSRs and another server's agent are refused, and
// nothing is issued.
func renewRefused(t *testing.T, a *Authority, issued func() int, cur *x509.Certificate, curKey crypto.Signer, other *x509.Certificate) {
	t.Helper()
	before := issued()
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		csr  []byte
		kind fault.Kind
	}{
		{"fail/CSR does not parse", cur, []byte("not a CSR"), fault.Invalid},
		{"fail/no CSR", cur, nil, fault.Invalid},
		{"fail/RSA key too short", cur, rsaCSR(t, 1024), fault.Invalid},
		{"fail/the current key again", cur, csrOf(t, curKey), fault.Invalid},
		{"fail/another server's agent", other, newCSR(t), fault.Unauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.RenewAgent(context.Background(), tc.cert, "dc1", "192.0.2.1", tc.csr)
			if fault.KindOf(err) != tc.kind {
				t.Errorf("got %v (kind %v), want kind %v", err, fault.KindOf(err), tc.kind)
			}
			if n := issued(); n != before {
				t.Errorf("agent certificates of dc1: got %d, want %d (nothing issued)", n, before)
			}
		})
	}
}

// renewRace renews with cert from several goroutines: one wins, the
// others are refused.
func renewRace(t *testing.T, a *Authority, cert *x509.Certificate) {
	t.Helper()
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = a.RenewAgent(context.Background(), cert, "dc1", "192.0.2.1", newCSR(t))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrAgentRefused):
			t.Errorf("a racing renewal: got %v, want ErrAgentRefused", err)
		}
	}
	if won != 1 {
		t.Errorf("racing renewals with one certificate: %d succeeded, want 1", won)
	}
}

// checkAgentViews: expiring names the agent certificate by its server,
// kind agent, and server status gives its end.
func checkAgentViews(t *testing.T, a *Authority, cert *x509.Certificate) {
	t.Helper()
	ctx := context.Background()
	list, err := a.Expiring(ctx, time.Duration(pki.DefaultLeafDays+1)*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range list {
		if v.Serial == pki.SerialHex(cert.SerialNumber) {
			found = v.Kind == ExpiringAgent && v.Name == "dc1"
		}
		if v.Kind == ExpiringServer && len(v.Name) > 6 && v.Name[:6] == agentPrefix {
			t.Errorf("expiring: got %+v, want agent certificates as kind agent", v)
		}
	}
	if !found {
		t.Errorf("expiring: got %+v, want dc1's agent certificate as kind agent, name dc1", list)
	}
	st, err := a.AgentStatus(ctx)
	if err != nil || len(st) == 0 || st[0].Server != "dc1" || !st[0].AgentCertNotAfter.Equal(cert.NotAfter) {
		t.Errorf("server status: got %+v (%v), want dc1 with agent_cert_not_after %s", st, err, cert.NotAfter)
	}
}

// joinWithKey joins server with a key of its own and returns the
// certificate and the key.
func joinWithKey(t *testing.T, a *Authority, server string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	ctx := context.Background()
	tok, err := a.EnrollServer(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := agentwire.ParseToken(tok.Token)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	res, err := a.JoinAgent(ctx, agentwire.JoinRequest{Secret: secret, CSR: csrOf(t, key)}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCert(res.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func csrOf(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func rsaCSR(t *testing.T, bits int) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return csrOf(t, key)
}

// crlLists tells whether the CRL in PEM lists cert.
func crlLists(t *testing.T, crlPEM []byte, cert *x509.Certificate) bool {
	t.Helper()
	blk, _ := pem.Decode(crlPEM)
	if blk == nil {
		t.Fatal("no PEM in the CRL")
	}
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return true
		}
	}
	return false
}
