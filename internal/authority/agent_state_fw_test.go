package authority

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestAgentStateFirewall: a server's state carries what `firewall show`
// renders: one client-config file per active user (ccd/USER, 0644) and
// the ruleset, naming the server's tun device; a membership change
// changes the state's hash and ruleset, and a revoked user's file goes.
func TestAgentStateFirewall(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	for _, g := range []struct{ name, rule string }{{"developers", "10.1.0.0/16:tcp/22"}, {"sales", "10.2.0.10:tcp/443"}} {
		if _, err := f.a.AddGroup(ctx, g.name, "", []string{g.rule}, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice", Groups: []string{"developers"}}, {Name: "bob", Groups: []string{"sales"}}}, AddOptions{NoBundles: true}); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, f.a, "dc1")
	view, err := f.a.Firewall(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Firewall != view.Ruleset || !strings.Contains(st.Firewall, `iifname "vpn-dc1"`) {
		t.Fatalf("state's ruleset: got\n%s\nwant firewall show's, naming device vpn-dc1", st.Firewall)
	}
	for _, u := range []string{"alice", "bob"} {
		fl := fileOf(t, st, "ccd/"+u)
		if string(fl.Data) != view.CCD[u] || fl.Mode != 0o644 {
			t.Errorf("ccd/%s: got %04o %q, want 0644 %q", u, fl.Mode, fl.Data, view.CCD[u])
		}
	}
	if conf := fileOf(t, st, "server.conf").Data; !bytes.Contains(conf, []byte("\ndev vpn-dc1\n")) || !bytes.Contains(conf, []byte("\nccd-exclusive\n")) {
		t.Errorf("server.conf lacks dev vpn-dc1 or ccd-exclusive:\n%s", conf)
	}

	if _, err := f.a.RemoveMembers(ctx, "sales", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AddMembers(ctx, "developers", "bob"); err != nil {
		t.Fatal(err)
	}
	moved := mustState(t, f.a, "dc1")
	if moved.Version <= st.Version || moved.Hash == st.Hash || moved.Firewall == st.Firewall {
		t.Fatalf("after moving bob: got version %d hash %s, want a newer version and another hash and ruleset", moved.Version, moved.Hash)
	}
	if got := string(fileOf(t, moved, "ccd/bob").Data); !strings.Contains(got, `push "route 10.1.0.0 255.255.0.0"`) || strings.Contains(got, "10.2.0.10") {
		t.Errorf("bob's file after the move: got %q, want the developers' route only", got)
	}

	dir := filepath.Join(t.TempDir(), "dc1")
	if err := f.a.WriteServerFiles(ctx, "dc1", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeUsers(ctx, []string{"bob"}, ""); err != nil {
		t.Fatal(err)
	}
	revoked := mustState(t, f.a, "dc1")
	for _, fl := range revoked.Files {
		if fl.Name == "ccd/bob" {
			t.Fatal("revoked bob still has a client-config file in the state")
		}
	}
	if err := f.a.WriteServerFiles(ctx, "dc1", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ccd", "alice")); err != nil {
		t.Errorf("server files: ccd/alice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ccd", "bob")); !os.IsNotExist(err) {
		t.Errorf("server files: ccd/bob after his revocation: got %v, want it removed", err)
	}
}

// TestServerFolderCCD: a folder `server files` wrote gets the file of a
// user added later (else ccd-exclusive refuses them) and loses the file
// of one revoked later, with no second `server files`; a file vpnkeys did
// not write is left alone, and `server files` still accepts the folder.
func TestServerFolderCCD(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	dir := filepath.Join(t.TempDir(), "dc1")
	if err := f.a.WriteServerFiles(ctx, "dc1", dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ccd", "zoe"), []byte("hand-written\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob", "zoe")
	for _, u := range []string{"alice", "bob"} {
		if b, err := os.ReadFile(filepath.Join(dir, "ccd", u)); err != nil || !bytes.Contains(b, []byte("ifconfig-push 10.8.0.")) {
			t.Fatalf("ccd/%s after adding: got %q, %v; want their address", u, b, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ccd", "zoe")); string(b) != "hand-written\n" {
		t.Errorf("ccd/zoe: got %q, want the hand-written file kept", b)
	}
	if _, err := f.a.RevokeUsers(ctx, []string{"bob"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ccd", "bob")); !os.IsNotExist(err) {
		t.Errorf("ccd/bob after revoking: got %v, want it removed", err)
	}
	if _, err := f.a.WriteServerFilesTo(ctx, "dc1", dir, false); err == nil || !strings.Contains(err.Error(), "ccd/zoe") {
		t.Fatalf("server files over a hand-written ccd/zoe: got %v, want it named as not vpnkeys'", err)
	}
}
