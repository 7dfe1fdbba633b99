package authority

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestSelfTLSRecorded: the certificate of serve --tls-self is on record
// like everything the CA signs; a renewal supersedes the previous one.
func TestSelfTLSRecorded(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	var serials []string
	for range 2 {
		certPEM, _, err := f.a.SelfTLS(ctx, []string{"vpn.example.com", "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(certPEM)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, pki.SerialHex(c.SerialNumber))
	}
	certs, err := f.db.Q().CertsOf(ctx, store.KindServer, "https:vpn.example.com")
	if err != nil || len(certs) != 2 {
		t.Fatalf("records: got %d %v, want 2", len(certs), err)
	}
	states := map[string]string{certs[0].Serial: certs[0].State, certs[1].Serial: certs[1].State}
	if states[serials[0]] != store.StateSuperseded || states[serials[1]] != store.StateActive {
		t.Fatalf("states: got %v, want the first superseded and the second active", states)
	}
	if ev, _ := f.a.Audit(ctx, AuditFilter{Action: "tls.issue"}); len(ev) != 2 {
		t.Fatalf("audit: got %d tls.issue events, want 2", len(ev))
	}
}
