package authority

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// profileOf reads user's inline profile in the bundles folder.
func profileOf(t *testing.T, f *fixture, user string) string {
	t.Helper()
	return string(readFile(t, filepath.Join(f.dir, "bundles", user, user+".ovpn")))
}

func caFile(t *testing.T, a *Authority, server string) string {
	t.Helper()
	files, err := a.ServerFiles(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	return string(files[1].Data)
}

// TestCARollover: start keeps the CA key and subject, puts the renewed
// certificate after the old one in new profiles and alone in the servers'
// files, and tells agents; another process that unlocks signs with
// the renewed one; finish leaves the new one alone, and what was signed
// before still verifies under it. Bad input changes nothing.
func TestCARollover(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	alice := f.add(t, AddOptions{}, "alice")[0]
	oldPEM, _ := f.a.CACertPEM(ctx)
	row := func() store.CA { c, _ := f.db.Q().GetCA(ctx); return c }
	refusals(t, f)
	v0, _ := f.db.Q().Version(ctx)
	st, err := f.a.StartRollover(ctx, 7300)
	if err != nil {
		t.Fatal(err)
	}
	if !st.UnderWay || st.Next == nil || !st.Next.NotAfter.After(st.Current.NotAfter) || st.Step != StepFinish {
		t.Fatalf("status after start: %+v", st)
	}
	if v, _ := f.db.Q().Version(ctx); v <= v0 {
		t.Fatalf("version after start: got %d, want more than %d", v, v0)
	}
	r1, _ := f.db.Q().GetRollover(ctx)
	t.Run("fail/start twice", func(t *testing.T) {
		if _, err := f.a.StartRollover(ctx, 7300); !errors.Is(err, ErrRolloverUnderway) {
			t.Fatalf("second start: got %v, want ErrRolloverUnderway", err)
		}
		if r, _ := f.db.Q().GetRollover(ctx); r != r1 {
			t.Fatal("a second start changed the CA row")
		}
	})
	if k := row().KeyPEM; k != string(must(f.a.CAKeyPEM(ctx))) || r1.Current != string(oldPEM) {
		t.Fatal("the CA key or current certificate changed at start")
	}
	// OpenVPN's server refuses two CA certificates of one subject: the
	// servers get the new one alone, which verifies every client.
	if got := caFile(t, f.a, "dc1"); got != r1.Next {
		t.Fatalf("server ca.crt during the rollover:\n%s\nwant the new certificate alone", got)
	}
	f.add(t, AddOptions{}, "bob")
	if p := profileOf(t, f, "bob"); !strings.Contains(p, r1.Current) || !strings.Contains(p, r1.Next) ||
		strings.Index(p, r1.Current) > strings.Index(p, r1.Next) {
		t.Fatal("a new profile does not hold old then new CA certificate")
	}
	// Another process that unlocks signs with the renewed certificate.
	b := f.reopen()
	if err := b.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
		t.Fatal(err)
	}
	next, _ := pki.ParseCert([]byte(r1.Next))
	if u, _ := b.ca(); !bytes.Equal(u.ca.Cert.Raw, next.Raw) {
		t.Fatal("an unlocked process does not sign with the renewed certificate")
	}
	fin, err := b.FinishRollover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fin.UnderWay || fin.Current.NotAfter != st.Next.NotAfter || fin.Step != StepStart {
		t.Fatalf("status after finish: %+v", fin)
	}
	if got := caFile(t, b, "dc1"); got != r1.Next {
		t.Fatalf("server ca.crt after finish: got %d bytes, want the new certificate alone", len(got))
	}
	if _, err := b.FinishRollover(ctx); !errors.Is(err, ErrNoRollover) {
		t.Fatalf("second finish: got %v, want ErrNoRollover", err)
	}
	afterFinish(t, f, b, alice.Serial, next)
}

// afterFinish: what was signed before verifies under the new certificate,
// both steps were audited once, and the CA is listed with its new end.
func afterFinish(t *testing.T, f *fixture, b *Authority, serial string, next *x509.Certificate) {
	ctx := context.Background()
	// alice's certificate, signed before, verifies under the new one.
	ac, _ := f.db.Q().CertBySerial(ctx, serial)
	leaf, _ := pki.ParseCert([]byte(ac.CertPEM))
	if err := (&pki.CA{Cert: next}).Verify(leaf); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"ca.rollover.start", "ca.rollover.finish"} {
		if ev, _ := f.a.Audit(ctx, AuditFilter{Action: action}); len(ev) != 1 {
			t.Fatalf("%s events: got %d, want 1", action, len(ev))
		}
	}
	// vpnkeys expiring lists the CA with its new end.
	list, err := b.Expiring(ctx, maxWithin)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range list {
		if e.Kind == "ca" {
			found = e.NotAfter.Equal(next.NotAfter)
		}
	}
	if !found {
		t.Fatalf("expiring: the CA is not listed with its new end %v: %+v", next.NotAfter, list)
	}
}

// refusals: finish without start and a start with bad days change
// nothing.
func refusals(t *testing.T, f *fixture) {
	ctx := context.Background()
	r0, _ := f.db.Q().GetRollover(ctx)
	t.Run("fail/finish without start", func(t *testing.T) {
		if _, err := f.a.FinishRollover(ctx); !errors.Is(err, ErrNoRollover) {
			t.Fatalf("got %v, want ErrNoRollover", err)
		}
	})
	t.Run("fail/bad days", func(t *testing.T) {
		for _, days := range []int{-1, MaxCADays + 1, 1} {
			if _, err := f.a.StartRollover(ctx, days); !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("days %d: got %v, want ErrInvalid", days, err)
			}
		}
	})
	if r, _ := f.db.Q().GetRollover(ctx); r != r0 {
		t.Fatal("a refused step changed the CA row")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestFollowCA: a process unlocked before another one started the
// rollover signs with the renewed certificate after its next server
// certificate check (hourly in serve), and presents the new CA
// certificate once the rollover finished.
func TestFollowCA(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	other := f.reopen()
	if err := other.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.StartRollover(ctx, 7300); err != nil {
		t.Fatal(err)
	}
	r, _ := f.db.Q().GetRollover(ctx)
	if _, err := other.RenewServerCerts(ctx); err != nil {
		t.Fatal(err)
	}
	if u, _ := other.ca(); string(pki.CertPEM(u.ca.Cert)) != r.Next || string(u.certPEM) != r.Current {
		t.Fatal("after start: the other process does not sign with the renewed certificate")
	}
	if _, err := f.a.FinishRollover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.RenewServerCerts(ctx); err != nil {
		t.Fatal(err)
	}
	if u, _ := other.ca(); string(u.certPEM) != r.Next {
		t.Fatal("after finish: the other process still presents the old CA certificate")
	}
}
