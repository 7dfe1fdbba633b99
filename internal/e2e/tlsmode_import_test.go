package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestImportTLSAuth: a company whose gen.sh distribution folder holds a
// client config with `tls-auth ta.key 1` and the ta.key is imported; the
// server registered afterwards is tls-auth with that ta.key, so the old
// client config (easy-rsa's certificate and key, the old ta.key) connects
// unchanged, and so does the profile vpnkeys renders for the same user:
// moving over is not a flag day.
func TestImportTLSAuth(t *testing.T) {
	ns := newNetns(t)
	ctx := context.Background()
	er := easyrsatest.New(t, "p256", "")
	er.Run(t, "build-client-full", "alice", "nopass")
	distr := t.TempDir()
	if out, err := exec.Command(testenv.OpenVPN(t), "--genkey", "secret", filepath.Join(distr, "ta.key")).CombinedOutput(); err != nil {
		t.Fatalf("genkey: %v %s", err, out)
	}
	// The old client config, as gen.sh hands it out (paths made absolute
	// so the test runs it from anywhere).
	old := "client\ndev tun\nproto udp\nremote 127.0.0.1 11961 udp\nnobind\nremote-cert-tls server\n" +
		"ca " + filepath.Join(er.Dir, "ca.crt") + "\ncert " + filepath.Join(er.Dir, "issued", "alice.crt") +
		"\nkey " + filepath.Join(er.Dir, "private", "alice.key") + "\ntls-auth " + filepath.Join(distr, "ta.key") + " 1\nverb 3\n"
	oldConf := filepath.Join(distr, "mycompany_vpn.ovpn")
	if err := os.WriteFile(oldConf, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := authority.New(db, authority.Options{DataDir: dir, AgentRunDir: runDir(t)})
	sum, err := a.ImportEasyRSA(ctx, er.Dir, authority.ImportOptions{ConfigDirs: []string{distr}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.TLSMode != "tls-auth" || !strings.Contains(sum.TLSModeReason, "mycompany_vpn.ovpn") || sum.TAKeyFrom != filepath.Join(distr, "ta.key") || sum.NewTLSCrypt {
		t.Fatalf("import: got mode %q (%s), ta.key from %q, new key %v; want tls-auth from mycompany_vpn.ovpn with its ta.key",
			sum.TLSMode, sum.TLSModeReason, sum.TAKeyFrom, sum.NewTLSCrypt)
	}
	v, err := a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "127.0.0.1:11961/udp"})
	if err != nil || v.TLSMode != "tls-auth" {
		t.Fatalf("server added after the import: got %q %v, want tls-auth", v.TLSMode, err)
	}
	srvDir := filepath.Join(dir, "server")
	if err := a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	traversable(t, srvDir)
	srv := ns.startServer(t, srvDir)
	if ok, log := ns.connect(t, oldConf); !ok {
		t.Fatalf("the old tls-auth client config could not connect:\n%s\nserver:\n%s", log, srv.Log())
	}
	out := filepath.Join(dir, "bundles")
	if _, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(out, "alice", "alice.ovpn")
	if b := mustRead(t, profile); !strings.Contains(string(b), "key-direction 1\n<tls-auth>") {
		t.Fatalf("alice's new profile is not tls-auth:\n%s", b)
	}
	if ok, log := ns.connect(t, profile); !ok {
		t.Fatalf("alice's vpnkeys profile could not connect:\n%s\nserver:\n%s", log, srv.Log())
	}
	if strings.Contains(srv.Log(), "TLS Auth Error") {
		t.Fatalf("server logged a tls-auth error:\n%s", srv.Log())
	}
}
