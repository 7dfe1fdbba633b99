package mgmt

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/status3.txt from the live server")

// TestLive drives a real OpenVPN 2.6 server with two clients, alice and
// bob, through the management socket. The steps share the server (and
// run in order: the kills come last).
func TestLive(t *testing.T) {
	l := startLive(t)
	alice, bob := l.connect(t, "alice"), l.connect(t, "bob")
	t.Run("fail/no or bad password", func(t *testing.T) { livePasswords(t, l) })
	c := dial(t, l)
	t.Run("ok/version and pid", func(t *testing.T) { liveVersion(t, l, c) })
	var cids map[string]uint64
	t.Run("ok/status", func(t *testing.T) {
		cids = checkStatus(t, c, l, map[string]*testenv.Proc{"alice": alice, "bob": bob})
	})
	if cids == nil {
		t.FailNow()
	}
	t.Run("ok/second management client waits for the first", func(t *testing.T) { secondClient(t, l, c) })
	t.Run("ok/notifications between replies", func(t *testing.T) { notificationsDoNotBreakStatus(t, l) })
	c = dial(t, l) // the steps above closed theirs
	t.Run("fail/invalid arguments send nothing", func(t *testing.T) { liveInvalid(t, c, cids["bob"], bob) })
	t.Run("fail/kill unknown client", func(t *testing.T) { liveKillUnknown(t, c) })
	t.Run("ok/kill alice with HALT", func(t *testing.T) { liveKillHalt(t, c, cids["alice"], alice, bob) })
	t.Run("ok/kill common name", func(t *testing.T) {
		n, err := c.KillCommonName(context.Background(), "bob")
		if err != nil || n != 1 {
			t.Fatalf("got %d, %v, want 1 client killed", n, err)
		}
	})
	t.Run("fail/closed connection", func(t *testing.T) {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := c.Status(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	})
	t.Run("fail/server gone", func(t *testing.T) { liveServerGone(t, l) })
}

func livePasswords(t *testing.T, l *liveServer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Dial(ctx, "unix", l.sock); !errors.Is(err, ErrPasswordRequired) {
		t.Errorf("no password: got %v, want ErrPasswordRequired", err)
	}
	_, err := Dial(ctx, "unix", l.sock, WithPassword("wrong-secret"))
	if !errors.Is(err, ErrBadPassword) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bad password: got %v, want ErrBadPassword without the password", err)
	}
}

func liveVersion(t *testing.T, l *liveServer, c *Client) {
	ctx := context.Background()
	if !strings.HasPrefix(c.Banner(), "OpenVPN Management Interface Version 5") {
		t.Errorf("banner: got %q", c.Banner())
	}
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.OpenVPN, "OpenVPN 2.6.") || v.Management != 5 {
		t.Errorf("got %+v, want OpenVPN 2.6.x, management 5", v)
	}
	pid, err := c.Pid(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid != l.server.PID() {
		t.Errorf("pid: got %d, want %d", pid, l.server.PID())
	}
}

func liveInvalid(t *testing.T, c *Client, bobCID uint64, bob *testenv.Proc) {
	ctx := context.Background()
	for name, err := range map[string]error{
		"newline in kill message": c.KillClient(ctx, bobCID, "HALT,x\nkill bob"),
		"quote in kill message":   c.KillClient(ctx, bobCID, `HALT,x" "y`),
		"not HALT nor RESTART":    c.KillClient(ctx, bobCID, "bye"),
		"colon in common name":    second(c.KillCommonName(ctx, "127.0.0.1:1194")),
		"newline in command":      second(c.Command(ctx, "status 3\nkill bob")),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if bob.Exited(0) {
		t.Fatal("bob was killed by an invalid command")
	}
}

func liveKillUnknown(t *testing.T, c *Client) {
	ctx := context.Background()
	err := c.KillClient(ctx, 987654, "HALT")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrCommand) {
		t.Errorf("client-kill: got %v, want ErrNotFound and ErrCommand", err)
	}
	if _, err = c.KillCommonName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("kill: got %v, want ErrNotFound", err)
	}
}

// liveKillHalt: alice is told to halt and exits; bob stays.
func liveKillHalt(t *testing.T, c *Client, cid uint64, alice, bob *testenv.Proc) {
	ctx := context.Background()
	if err := c.KillClient(ctx, cid, "HALT,access revoked"); err != nil {
		t.Fatal(err)
	}
	if alice.WaitFor(10*time.Second, "Halt command was pushed by server ('access revoked')") == "" {
		t.Fatalf("alice's log has no halt:\n%s", alice.Log())
	}
	if !alice.Exited(10 * time.Second) {
		t.Fatalf("alice still runs after the halt:\n%s", alice.Log())
	}
	// OpenVPN keeps the instance a few seconds after sending the halt.
	start := time.Now()
	for got := ""; got != "bob"; {
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got = commonNames(st); got != "bob" && time.Since(start) > 15*time.Second {
			t.Fatalf("sessions after the kill: got %q, want bob", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("alice left the status %v after the halt", time.Since(start).Round(time.Second))
	if bob.Exited(0) {
		t.Fatalf("bob exited:\n%s", bob.Log())
	}
}

// liveServerGone: OpenVPN going away ends the connection and fails the
// next command with ErrClosed.
func liveServerGone(t *testing.T, l *liveServer) {
	c := dial(t, l)
	l.server.Stop()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection did not end with the server")
	}
	if _, err := c.Pid(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

func second[T any](_ T, err error) error { return err }

func commonNames(st Status) string {
	var cns []string
	for _, s := range st.Sessions {
		cns = append(cns, s.CommonName)
	}
	return strings.Join(cns, ",")
}

var pushedIfconfig = regexp.MustCompile(`ifconfig (\d+\.\d+\.\d+\.\d+) `)

// checkStatus checks the live status against what each client was given
// and what the server logged, keeps the raw output as a golden capture
// with -update, and returns the client IDs.
func checkStatus(t *testing.T, c *Client, l *liveServer, clients map[string]*testenv.Proc) map[string]uint64 {
	ctx := context.Background()
	raw, err := c.Command(ctx, "status 3")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		out := strings.Join(append(raw, "END"), "\r\n") + "\r\n"
		if err := os.WriteFile(filepath.Join("testdata", "status3.txt"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Title, "OpenVPN 2.6.") || time.Since(st.Time) > time.Minute {
		t.Errorf("title, time: got %q, %v", st.Title, st.Time)
	}
	cids := map[string]uint64{}
	for _, s := range st.Sessions {
		p := clients[s.CommonName]
		if p == nil {
			t.Errorf("unexpected session %+v", s)
			continue
		}
		cids[s.CommonName] = s.ClientID
		m := pushedIfconfig.FindStringSubmatch(p.Log())
		if m == nil || s.VirtualAddress != m[1] {
			t.Errorf("%s: virtual address: got %q, want the pushed %v", s.CommonName, s.VirtualAddress, m)
		}
		if !s.RealAddr.IsValid() || s.RealAddr.Addr().String() != "127.0.0.1" || s.RealAddr.String() != s.RealAddress {
			t.Errorf("%s: real address: got %q (%v)", s.CommonName, s.RealAddress, s.RealAddr)
		}
		if want := s.RealAddress + " [" + s.CommonName + "] Peer Connection Initiated"; !strings.Contains(l.server.Log(), want) {
			t.Errorf("%s: the server did not log %q", s.CommonName, want)
		}
		if time.Since(s.ConnectedSince) > time.Minute || s.BytesReceived == 0 || s.Cipher == "" {
			t.Errorf("%s: got %+v", s.CommonName, s)
		}
	}
	if len(cids) != 2 || cids["alice"] == cids["bob"] {
		t.Fatalf("sessions: got %+v, want alice and bob with distinct client IDs", st.Sessions)
	}
	if len(st.Routes) != 2 {
		t.Errorf("routes: got %+v, want 2", st.Routes)
	}
	return cids
}
