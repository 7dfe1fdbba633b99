package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// verifyRefused is what OpenVPN 2.6 logs when tls-crypt-v2-verify exits
// non-zero: the client is dropped before any TLS work.
const verifyRefused = "TLS CRYPT V2 VERIFY SCRIPT ERROR"

// TestTLSModes: three servers rendered by vpnkeys, one per control-channel
// mode, in the order tls-auth, tls-crypt, tls-crypt-v2. A user's bundle
// then holds three profiles (alice.ovpn for the first mode, alice-MODE.ovpn
// for the others) and each connects to its server as shipped. After bob
// is revoked, his tls-crypt-v2 profile is dropped by the verify script
// before TLS (no certificate check is reached), while alice still
// connects.
func TestTLSModes(t *testing.T) {
	ns := newNetns(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := authority.New(db, authority.Options{DataDir: dir, Company: "Example", AgentRunDir: runDir(t)})
	if err := a.Init(ctx, authority.InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase("e2e pass")}); err != nil {
		t.Fatal(err)
	}
	servers := []authority.ServerRequest{
		{Name: "dc-auth", Remote: "127.0.0.1:11951/udp", Subnet: "10.51.0.0/24", TLSMode: "tls-auth"},
		{Name: "dc-crypt", Remote: "127.0.0.1:11952/udp", Subnet: "10.52.0.0/24", TLSMode: "tls-crypt"},
		{Name: "dc-v2", Remote: "127.0.0.1:11953/udp", Subnet: "10.53.0.0/24", TLSMode: "tls-crypt-v2"},
	}
	procs := map[string]*serverProc{}
	for _, s := range servers {
		if _, err := a.AddServer(ctx, s); err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, "server-"+s.Name)
		if err := a.WriteServerFiles(ctx, s.Name, d); err != nil {
			t.Fatal(err)
		}
		traversable(t, d)
		procs[s.Name] = &serverProc{dir: d}
	}
	out := filepath.Join(dir, "bundles")
	if _, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}, {Name: "bob"}}, authority.AddOptions{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	profiles := map[string]string{"dc-auth": "alice.ovpn", "dc-crypt": "alice-tls-crypt.ovpn", "dc-v2": "alice-tls-crypt-v2.ovpn"}
	if n := countProfiles(t, filepath.Join(out, "alice")); n != len(profiles) {
		t.Fatalf("alice's bundle: got %d profiles, want %d (one per mode)", n, len(profiles))
	}
	for _, s := range servers {
		procs[s.Name].p = ns.startServer(t, procs[s.Name].dir)
	}
	for _, s := range servers {
		t.Run("ok/"+s.TLSMode, func(t *testing.T) {
			p := filepath.Join(out, "alice", profiles[s.Name])
			b := string(mustRead(t, p))
			if !strings.Contains(b, "remote 127.0.0.1 "+strings.TrimSuffix(strings.Split(s.Remote, ":")[1], "/udp")) || strings.Count(b, "\nremote ") != 1 {
				t.Fatalf("%s lists other servers than %s:\n%s", p, s.Name, b)
			}
			if ok, log := ns.connect(t, p); !ok {
				t.Fatalf("%s could not connect to %s:\n%s\nserver:\n%s", p, s.Name, log, procs[s.Name].p.Log())
			}
		})
	}

	bob := keep(t, filepath.Join(out, "bob", "bob-tls-crypt-v2.ovpn"))
	if ok, log := ns.connect(t, bob); !ok {
		t.Fatalf("bob could not connect before his revocation:\n%s", log)
	}
	if _, err := a.Revoke(ctx, "bob", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	v2 := procs["dc-v2"].p
	if ok, log := ns.connect(t, bob); ok {
		t.Fatalf("revoked bob connected with his tls-crypt-v2 key:\n%s", log)
	}
	if v2.WaitFor(5*time.Second, verifyRefused) == "" {
		t.Fatalf("server did not log %q for revoked bob:\n%s", verifyRefused, v2.Log())
	}
	for _, certErr := range []string{"certificate revoked", "VERIFY ERROR"} {
		if strings.Contains(v2.Log(), certErr) {
			t.Fatalf("bob reached the certificate check (%q): the verify script should drop him first:\n%s", certErr, v2.Log())
		}
	}
	if ok, log := ns.connect(t, filepath.Join(out, "alice", "alice-tls-crypt-v2.ovpn")); !ok {
		t.Fatalf("alice could not connect after bob's revocation:\n%s\nserver:\n%s", log, v2.Log())
	}
}

// serverProc is a server folder and the OpenVPN running it.
type serverProc struct {
	dir string
	p   *testenv.Proc
}

// countProfiles counts the .ovpn files in a bundle folder.
func countProfiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".ovpn") {
			n++
		}
	}
	return n
}
