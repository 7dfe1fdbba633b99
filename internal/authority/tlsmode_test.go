package authority

import (
	"context"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/tlscryptv2"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestSetTLSModeAgentState: switching a server to tls-crypt-v2 is audited
// and is a change (a new version), so its agent's next state holds the
// server key, the verify script and revoked-serials; the server key is one
// for the company, it unwraps the client key of a user's profile (whose
// metadata is the certificate serial), and revoked-serials follows the CRL.
func TestSetTLSModeAgentState(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	before := mustState(t, f.a, "dc1")
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc1", TLSMode: "bogus"}); err == nil {
		t.Fatal("SetServer(bogus): got nil, want an error")
	}
	if v, err := f.a.SetServer(ctx, ServerChange{Name: "dc1", TLSMode: "tls-crypt-v2"}); err != nil || v.TLSMode != "tls-crypt-v2" {
		t.Fatalf("SetServer: got %+v %v", v, err)
	}
	ev, err := f.a.Audit(ctx, auditFilterTarget("dc1"))
	if err != nil || len(ev) == 0 || ev[0].Action != "server.set" || !strings.Contains(string(ev[0].Detail), `"tls_mode":"tls-crypt-v2"`) {
		t.Fatalf("audit: got %+v %v, want server.set with tls_mode", ev, err)
	}
	after := mustState(t, f.a, "dc1")
	if after.Version <= before.Version {
		t.Fatalf("version: got %d, want past %d", after.Version, before.Version)
	}
	if conf := fileOf(t, after, "server.conf"); !strings.Contains(string(conf.Data), "tls-crypt-v2 tls-crypt-v2-server.key") {
		t.Fatalf("server.conf:\n%s", conf.Data)
	}
	modes := map[string]uint32{ovpn.TLSCryptV2ServerKeyName: 0o600, ovpn.TLSCryptV2VerifyName: 0o755, ovpn.RevokedSerialsName: 0o644}
	for n, want := range modes {
		if got := fileOf(t, after, n).Mode; got != want {
			t.Fatalf("mode of %s: got %04o, want %04o", n, got, want)
		}
	}
	key, err := tlscryptv2.ParseServerKey(fileOf(t, after, ovpn.TLSCryptV2ServerKeyName).Data)
	if err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{OutDir: f.dir + "/bundles"}, "alice")
	prof := string(readFile(t, f.dir+"/bundles/alice/alice.ovpn"))
	i, j := strings.Index(prof, "<tls-crypt-v2>\n"), strings.Index(prof, "</tls-crypt-v2>")
	if i < 0 || j < i {
		t.Fatalf("alice.ovpn has no tls-crypt-v2 key:\n%s", prof)
	}
	_, m, err := key.Unwrap([]byte(prof[i+len("<tls-crypt-v2>\n") : j]))
	if err != nil {
		t.Fatalf("the server key does not unwrap alice's client key: %v", err)
	}
	serial, err := tlscryptv2.ParseSerialMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	// A second authority (another process) uses the stored key, not a new one.
	f2 := f.reopen()
	if err := f2.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Revoke(ctx, "alice", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, f2, "dc1")
	// The revoked self-test probe (selftest.go) is on the CRL too.
	listed := strings.Fields(string(fileOf(t, st, ovpn.RevokedSerialsName).Data))
	if got := usersRevokedIn(t, f.db, listed); len(got) != 1 || got[0] != serial {
		t.Fatalf("revoked-serials: got users' %q (all: %q), want alice's serial %s", got, listed, serial)
	}
	if got := fileOf(t, st, ovpn.TLSCryptV2ServerKeyName).Data; string(got) != string(key.MarshalPEM()) {
		t.Fatal("a second process rendered another tls-crypt-v2 server key")
	}
}
