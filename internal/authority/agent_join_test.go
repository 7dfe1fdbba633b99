package authority

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// TestJoinRace: joins racing with one token, on SQLite and PostgreSQL:
// exactly one gets a certificate, every other one is refused as "used"
// (audited), and one agent certificate is active.
func TestJoinRace(t *testing.T) {
	for name, dsn := range map[string]func() string{
		"sqlite":   func() string { return filepath.Join(t.TempDir(), "vpnkeys.db") },
		"postgres": func() string { return pgtest.Start(t) },
	} {
		t.Run("ok/"+name, func(t *testing.T) {
			a, db := openAgentAuthority(t, dsn())
			ctx := context.Background()
			tok, err := a.EnrollServer(ctx, "dc1")
			if err != nil {
				t.Fatal(err)
			}
			_, secret, _ := agentwire.ParseToken(tok.Token)
			const joins = 6
			errs := make([]error, joins)
			var wg sync.WaitGroup
			for i := range joins {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = a.JoinAgent(ctx, agentwire.JoinRequest{Secret: secret, CSR: newCSR(t)}, "192.0.2.1")
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrJoinRefused):
					t.Errorf("a racing join: got %v, want ErrJoinRefused", err)
				}
			}
			if won != 1 {
				t.Errorf("racing joins: %d got a certificate, want 1", won)
			}
			certs, _ := db.Q().CertsOf(ctx, store.KindServer, "agent:dc1")
			refused, _ := a.Audit(ctx, AuditFilter{Action: "agent.join.refused"})
			if len(certs) != 1 || len(refused) != joins-1 {
				t.Errorf("got %d agent certificates and %d refusals audited, want 1 and %d", len(certs), len(refused), joins-1)
			}
		})
	}
}

// TestAgentLifecycle: joining again supersedes the agent's certificate
// (revoked, reason superseded, on the CRL); removing the server revokes
// the current one (cessation of operation) and deletes its unused tokens.
func TestAgentLifecycle(t *testing.T) {
	a, db := openAgentAuthority(t, filepath.Join(t.TempDir(), "vpnkeys.db"))
	ctx := context.Background()
	if _, err := a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "127.0.0.1:1195"}); err != nil {
		t.Fatal(err)
	}
	first, second := mustJoin(t, a, "dc2"), mustJoin(t, a, "dc2")
	if _, err := a.EnrollServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	old, _ := db.Q().CertBySerial(ctx, first)
	crl, _ := a.CRL(ctx)
	if old.State != store.StateRevoked || old.Reason != "superseded" || crl.Revoked != 1 {
		t.Errorf("first agent certificate: got %s %q, CRL lists %d; want revoked, superseded, listed", old.State, old.Reason, crl.Revoked)
	}
	if _, err := a.RemoveServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	cur, _ := db.Q().CertBySerial(ctx, second)
	if cur.State != store.StateRevoked || cur.Reason != pki.CessationOfOperation.String() {
		t.Errorf("agent certificate of a removed server: got %s %q, want revoked, cessationOfOperation", cur.State, cur.Reason)
	}
	var left int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM agent_joins WHERE server = 'dc2' AND used_at = 0`).Scan(&left)
	if left != 0 {
		t.Errorf("unused join tokens of a removed server: got %d, want 0", left)
	}
	if _, err := a.EnrollServer(ctx, "dc2"); !errors.Is(err, ErrServerNotFound) {
		t.Errorf("enrolling a removed server: got %v, want ErrServerNotFound", err)
	}
}

func openAgentAuthority(t *testing.T, dsn string) (*Authority, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := New(db, Options{DataDir: t.TempDir()})
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "127.0.0.1:1194"}); err != nil {
		t.Fatal(err)
	}
	return a, db
}

func newCSR(t testing.TB) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Error(err)
	}
	return csr
}

// mustJoin enrolls server, joins and returns the agent certificate's serial.
func mustJoin(t *testing.T, a *Authority, server string) string {
	t.Helper()
	ctx := context.Background()
	tok, err := a.EnrollServer(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := agentwire.ParseToken(tok.Token)
	res, err := a.JoinAgent(ctx, agentwire.JoinRequest{Secret: secret, CSR: newCSR(t)}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCert(res.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return pki.SerialHex(c.SerialNumber)
}

// FuzzParseCSR: a join request's CSR is outside input: whatever the bytes,
// parseCSR never panics, refuses with an Invalid error, and accepts only
// a request whose signature verifies.
func FuzzParseCSR(f *testing.F) {
	good := newCSR(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("not a CSR"))
	f.Fuzz(func(t *testing.T, der []byte) {
		csr, err := parseCSR(der)
		if err != nil {
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("refusal of kind %v, want invalid: %v", fault.KindOf(err), err)
			}
			return
		}
		if csr.CheckSignature() != nil {
			t.Fatal("accepted a CSR whose signature does not verify")
		}
	})
}
