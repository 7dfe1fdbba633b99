package authority

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/tlscryptv2"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestProbesFollowTLSMode: a probe talks to its server in the server's
// control-channel mode, or the self-test of a tls-auth or tls-crypt-v2
// server would fail before TLS. On tls-crypt-v2 each probe carries a client
// key the server's key unwraps to that probe's own serial, so the verify
// script drops the revoked probe as it drops a revoked user.
func TestProbesFollowTLSMode(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	for _, mode := range []string{"tls-auth", "tls-crypt-v2"} {
		if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc1", TLSMode: mode}); err != nil {
			t.Fatal(err)
		}
		ps, err := f.a.Probes(ctx, "dc1")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			name    string
			profile []byte
			subject string
		}{{"valid", ps.Valid, ProbePrefix + "dc1"}, {"revoked", ps.Revoked, ProbeRevokedPrefix + "dc1"}} {
			t.Run("ok/"+mode+"/"+p.name, func(t *testing.T) {
				prof := string(p.profile)
				if strings.Contains(prof, "<tls-crypt>") || !strings.Contains(prof, "<"+mode+">") {
					t.Fatalf("profile: want a <%s> block and no <tls-crypt>:\n%s", mode, prof)
				}
				if mode != "tls-crypt-v2" {
					return
				}
				st := mustState(t, f.a, "dc1")
				key, err := tlscryptv2.ParseServerKey(fileOf(t, st, ovpn.TLSCryptV2ServerKeyName).Data)
				if err != nil {
					t.Fatal(err)
				}
				i, j := strings.Index(prof, "<tls-crypt-v2>\n"), strings.Index(prof, "</tls-crypt-v2>")
				_, m, err := key.Unwrap([]byte(prof[i+len("<tls-crypt-v2>\n") : j]))
				if err != nil {
					t.Fatalf("the server key does not unwrap the probe's client key: %v", err)
				}
				serial, err := tlscryptv2.ParseSerialMetadata(m)
				if err != nil {
					t.Fatal(err)
				}
				certs, err := f.db.Q().CertsOf(ctx, store.KindClient, p.subject)
				if err != nil || !slices.ContainsFunc(certs, func(c store.Cert) bool { return c.Serial == serial }) {
					t.Fatalf("client key metadata: got serial %s, want the %s probe's (%+v, %v)", serial, p.name, certs, err)
				}
			})
		}
	}
}
