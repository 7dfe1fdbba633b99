package authority

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// usersRevoked is revoked without the self-test probes' serials.
func usersRevoked(t testing.TB, f *fixture, revoked []string) []string {
	t.Helper()
	return usersRevokedIn(t, f.db, revoked)
}

func usersRevokedIn(t testing.TB, db *store.DB, revoked []string) []string {
	t.Helper()
	var probes []string
	servers, err := db.Q().ListServers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		certs, err := db.Q().CertsOf(context.Background(), store.KindClient, ProbeRevokedPrefix+s.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range certs {
			probes = append(probes, c.Serial)
		}
	}
	return slices.DeleteFunc(slices.Clone(revoked), func(s string) bool { return slices.Contains(probes, s) })
}

// TestProbes: a server's two probes are made once, the revoked one is on
// the CRL, both have a client-config file with an address no user holds,
// and they stay out of users' lists, the expiry scan and the count of
// active users. An unknown server gets none.
func TestProbes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194/tcp")
	f.add(t, AddOptions{NoBundles: true}, "alice")
	before, _ := f.a.CRL(ctx)

	t.Run("fail/unknown-server", func(t *testing.T) {
		if _, err := f.a.Probes(ctx, "nosuch"); !errors.Is(err, ErrServerNotFound) {
			t.Fatalf("got %v, want ErrServerNotFound", err)
		}
		certs, err := f.db.Q().AllCerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range certs {
			if strings.Contains(c.Subject, "nosuch") {
				t.Errorf("got certificate %s for %s, want none", c.Serial, c.Subject)
			}
		}
		if crl, _ := f.a.CRL(ctx); crl.Number != before.Number {
			t.Errorf("CRL number: got %d, want %d (nothing signed)", crl.Number, before.Number)
		}
	})

	ps, err := f.a.Probes(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ok/profiles", func(t *testing.T) {
		for _, p := range [][]byte{ps.Valid, ps.Revoked} {
			for _, want := range []string{"remote vpn1.example.com 1194 tcp", "\ndev null\n", "\nifconfig-noexec\n", "\nroute-noexec\n", "\nconnect-retry-max 1\n", "<key>"} {
				if !strings.Contains(string(p), want) {
					t.Errorf("profile lacks %q", want)
				}
			}
		}
		again, err := f.a.Probes(ctx, "dc1")
		if err != nil || string(again.Valid) != string(ps.Valid) || string(again.Revoked) != string(ps.Revoked) {
			t.Errorf("asked again: got other profiles (%v), want the same", err)
		}
	})
	t.Run("ok/revoked-on-crl", func(t *testing.T) {
		certs, _ := f.db.Q().CertsOf(ctx, store.KindClient, ProbeRevokedPrefix+"dc1")
		valid, _ := f.db.Q().CertsOf(ctx, store.KindClient, ProbePrefix+"dc1")
		if len(certs) != 1 || certs[0].State != store.StateRevoked || len(valid) != 1 || valid[0].State != store.StateActive {
			t.Fatalf("got %d revoked probes and %d valid ones, want one revoked and one active", len(certs), len(valid))
		}
		crl, _ := f.a.CRL(ctx)
		c, err := f.db.Q().GetCRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rl, err := x509.ParseRevocationList(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range rl.RevokedCertificateEntries {
			found = found || pki.SerialHex(e.SerialNumber) == certs[0].Serial
		}
		if !found || crl.Number <= before.Number {
			t.Errorf("CRL #%d: the revoked probe listed %v, want listed in a CRL above #%d", crl.Number, found, before.Number)
		}
	})
	t.Run("ok/ccd", func(t *testing.T) { checkProbeCCD(t, f) })
	t.Run("ok/not-users", func(t *testing.T) { checkProbesNotUsers(t, f) })
}

// checkProbeCCD: the probes' client-config files take the top of the
// pool, push nothing, and leave users the lowest addresses.
func checkProbeCCD(t *testing.T, f *fixture) {
	ctx := context.Background()
	files, err := f.a.ServerFiles(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range files {
		got[fl.Name] = string(fl.Data)
	}
	// The fixture's servers have a /16: the probes take its top.
	for name, addr := range map[string]string{"ccd/probe:dc1": "10.8.255.254 ", "ccd/probe-revoked:dc1": "10.8.255.253 "} {
		if !strings.Contains(got[name], "ifconfig-push "+addr) || strings.Contains(got[name], "push \"route") {
			t.Errorf("%s: got %q, want ifconfig-push %sand no routes", name, got[name], addr)
		}
	}
	if !strings.Contains(got["ccd/alice"], "ifconfig-push 10.8.0.2 ") {
		t.Errorf("ccd/alice: got %q, want the lowest address", got["ccd/alice"])
	}
}

// checkProbesNotUsers: no expiry scan or count of active users shows the
// probes.
func checkProbesNotUsers(t *testing.T, f *fixture) {
	ctx := context.Background()
	exp, err := f.a.Expiring(ctx, 5000*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exp {
		if strings.HasPrefix(e.Name, "probe") {
			t.Errorf("expiry scan lists %s", e.Name)
		}
	}
	if n, err := f.db.Q().CountActiveClients(ctx); err != nil || n != 1 {
		t.Errorf("active clients: got %d (%v), want 1 (alice)", n, err)
	}
}

// A removed server's probe is revoked with it.
func TestProbesRemoved(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.addServer(t, "dc2", "vpn2.example.com:1194")
	if _, err := f.a.Probes(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RemoveServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	certs, err := f.db.Q().CertsOf(ctx, store.KindClient, ProbePrefix+"dc2")
	if err != nil || len(certs) != 1 || certs[0].State != store.StateRevoked {
		t.Errorf("got %+v (%v), want dc2's probe revoked", certs, err)
	}
}

// sink is a Mailer that keeps what it is given.
type sink struct {
	mu   sync.Mutex
	msgs []mail.Message
	fail int // the next fail sends fail
}

func (s *sink) Send(_ context.Context, m mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("421 try later")
	}
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sink) Admin() string { return "admin@example.com" }

func (s *sink) subjects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		out = append(out, m.Subject)
	}
	return out
}

// TestSelfTestAlerts: a failing check is mailed once however many reports
// say so and however many instances store them, and its recovery once.
func TestSelfTestAlerts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	m1, m2 := &sink{}, &sink{}
	a2 := f.reopen()
	f.a.SetAlertMailer(m1)
	a2.SetAlertMailer(m2)
	report := func(a *Authority, tunnel bool) {
		t.Helper()
		st := &agentwire.SelfTest{At: time.Now(), Checks: []agentwire.Check{{Name: "tunnel", OK: tunnel, Detail: "d"}, {Name: "crl", OK: true}}}
		if err := a.ReportAgent(ctx, "dc1", agentwire.Report{SelfTest: st}); err != nil {
			t.Fatal(err)
		}
	}
	probe := agentwire.Report{Sessions: []agentwire.Session{{User: "probe:dc1", RealAddress: "127.0.0.1:5000", VPNAddress: "10.8.255.254"}}}
	if err := f.a.ReportAgent(ctx, "dc1", probe); err != nil {
		t.Fatal(err)
	}
	if got, err := f.a.Sessions(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("Sessions: got %+v (%v), want the probe's left out", got, err)
	}
	report(f.a, true)
	for range 3 {
		report(f.a, false)
		report(a2, false)
	}
	report(a2, true)
	report(f.a, true)
	got := append(m1.subjects(), m2.subjects()...)
	want := []string{"vpnkeys: self-test of dc1 fails: tunnel", "vpnkeys: self-test of dc1 passes again: tunnel"}
	if !slices.Equal(got, want) {
		t.Errorf("got mails %q, want %q", got, want)
	}
	list, err := f.a.AgentStatus(ctx)
	if err != nil || len(list) != 1 || list[0].SelfTest == nil || !list[0].SelfTest.OK || len(list[0].SelfTest.Checks) != 2 {
		t.Errorf("AgentStatus: got %+v (%v), want dc1's self-test, ok, two checks", list, err)
	}
	t.Run("fail/unknown-check", func(t *testing.T) {
		st := &agentwire.SelfTest{Checks: []agentwire.Check{{Name: "nosuch"}}}
		if err := f.a.ReportAgent(ctx, "dc1", agentwire.Report{SelfTest: st}); err == nil {
			t.Error("got no error, want the report refused")
		}
	})
}

// A failure mail that could not be sent is tried again with the next
// report, and then sent once.
func TestSelfTestAlertRetried(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	m := &sink{fail: 1}
	f.a.SetAlertMailer(m)
	for range 3 {
		st := &agentwire.SelfTest{At: time.Now(), Checks: []agentwire.Check{{Name: "crl", OK: false, Detail: "stale CRL"}}}
		if err := f.a.ReportAgent(ctx, "dc1", agentwire.Report{SelfTest: st}); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.subjects(); !slices.Equal(got, []string{"vpnkeys: self-test of dc1 fails: crl"}) {
		t.Errorf("got mails %q, want the failure mailed once after the first attempt failed", got)
	}
}
