package e2e

import (
	"context"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/mgmt"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestServerConfForAgent runs the server.conf and vpnkeys-session.sh of
// `vpnkeys server files` as written on a real OpenVPN 2.6 that drops to
// nobody: OpenVPN opens the management socket under the run folder and
// answers on it; a client's connect makes the hook (running as nobody)
// write RUNDIR/NAME.sessions/IP,PORT with the certificate's serial and the
// user, and the end of the session (client-kill, as the agent does it)
// removes the file.
func TestServerConfForAgent(t *testing.T) {
	ns := newNetns(t)
	ctx := context.Background()
	dir := t.TempDir()
	traversable(t, dir)
	run := runDir(t)
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := authority.New(db, authority.Options{DataDir: dir, AgentRunDir: run})
	if err := a.Init(ctx, authority.InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase("agent conf pass")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "127.0.0.1:11944/udp"}); err != nil {
		t.Fatal(err)
	}
	srvDir := filepath.Join(dir, "server")
	if err := a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bundles")
	res, err := a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	// The agent makes the session folder for OpenVPN's dropped user.
	sessions := ovpn.SessionsPath(run, "dc1")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	if err := os.Mkdir(sessions, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sessions, uid, gid); err != nil {
		t.Fatal(err)
	}

	srv := ns.startServer(t, srvDir)
	sock := ovpn.SocketPath(run, "dc1")
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("management socket %s: got %v %v, want a socket", sock, fi, err)
	}
	client := ns.OpenVPN(t, "--config", filepath.Join(out, "alice", "alice.ovpn"), "--dev", "null",
		"--ifconfig-noexec", "--route-noexec", "--verb", "3")
	if client.WaitFor(30*time.Second, ready) == "" {
		t.Fatalf("alice did not connect:\n%s\nserver:\n%s", client.Log(), srv.Log())
	}

	m, err := mgmt.Dial(ctx, "unix", sock)
	if err != nil {
		t.Fatalf("dialing the management socket: %v\nserver:\n%s", err, srv.Log())
	}
	defer m.Close()
	st, err := m.Status(ctx)
	if err != nil || len(st.Sessions) != 1 || st.Sessions[0].CommonName != "alice" {
		t.Fatalf("status over the management socket: got %+v %v, want alice's session", st.Sessions, err)
	}
	real := st.Sessions[0].RealAddr
	name := filepath.Join(sessions, real.Addr().String()+","+strconv.Itoa(int(real.Port())))
	b, err := os.ReadFile(name)
	if err != nil {
		entries, _ := os.ReadDir(sessions)
		t.Fatalf("session file: %v (folder holds %v)\nserver:\n%s", err, entries, srv.Log())
	}
	if fi, err := os.Stat(name); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(uid) {
		t.Fatalf("session file: got %v %v, want it written by nobody (uid %d), as OpenVPN runs the hook", fi, err, uid)
	}
	serial, cn, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	want, _ := new(big.Int).SetString(res[0].Serial, 16)
	got, ok := new(big.Int).SetString(strings.ReplaceAll(serial, ":", ""), 16)
	if cn != "alice" || !ok || got.Cmp(want) != 0 {
		t.Fatalf("session file: got %q, want alice's serial %s and her name", b, res[0].Serial)
	}

	// Ended as the agent ends a session: the server runs the hook's disconnect.
	if err := m.KillClient(ctx, st.Sessions[0].ClientID, "HALT,test over"); err != nil {
		t.Fatal(err)
	}
	if client.WaitFor(30*time.Second, "Halt command was pushed by server") == "" {
		t.Fatalf("the client was not halted:\n%s", client.Log())
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(name); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session file %s still there after alice left\nserver:\n%s", name, srv.Log())
		}
	}
	if strings.Contains(srv.Log(), "WARNING: Failed running command") {
		t.Fatalf("the hook failed:\n%s", srv.Log())
	}
}
