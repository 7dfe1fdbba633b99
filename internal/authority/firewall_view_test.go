package authority

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestFirewall: a server's dry run renders each active user's address
// and their groups' rules; a revoked user gets no client-config file.
func TestFirewall(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	if _, err := f.a.AddGroup(ctx, "developers", "", []string{"10.1.0.0/16:tcp/22,443"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice", Groups: []string{"developers"}}, {Name: "bob"}, {Name: "carol"}}, AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeUsers(ctx, []string{"carol"}, ""); err != nil {
		t.Fatal(err)
	}
	v, err := f.a.Firewall(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.CCD["alice"]; !strings.Contains(got, "ifconfig-push 10.8.0.2 255.255.0.0") || !strings.Contains(got, `push "route 10.1.0.0 255.255.0.0"`) {
		t.Errorf("alice's file: got %q, want her address and her group's route", got)
	}
	if got := v.CCD["bob"]; !strings.Contains(got, "ifconfig-push 10.8.0.3 ") || strings.Contains(got, "route") {
		t.Errorf("bob's file: got %q, want his address and no route", got)
	}
	if _, ok := v.CCD["carol"]; ok || len(v.CCD) != 2 {
		t.Errorf("files: got %v, want alice and bob only (carol is revoked)", v.CCD)
	}
	if !strings.Contains(v.Ruleset, "table inet vpnkeys") || !strings.Contains(v.Ruleset, "10.8.0.2") || !strings.Contains(v.Ruleset, "10.1.0.0/16") {
		t.Errorf("ruleset lacks the table, alice's address or her rule:\n%s", v.Ruleset)
	}
	if _, err := f.a.Firewall(ctx, "nope"); !errors.Is(err, ErrServerNotFound) {
		t.Fatalf("unknown server: got %v, want ErrServerNotFound", err)
	}
}
