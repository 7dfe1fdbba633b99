package authority

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// fileOf returns the file name of st, or fails.
func fileOf(t *testing.T, st agentwire.State, name string) agentwire.File {
	t.Helper()
	for _, f := range st.Files {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("state of %s at %d: no %s", st.Server, st.Version, name)
	return agentwire.File{}
}

func mustState(t *testing.T, a *Authority, server string) agentwire.State {
	t.Helper()
	st, err := a.AgentState(context.Background(), server)
	if err != nil {
		t.Fatalf("AgentState(%s): %v", server, err)
	}
	return st
}

// TestAgentStateFiles: a server's state holds its own folder, as `server
// files` writes it, and nothing of another server's.
func TestAgentStateFiles(t *testing.T) {
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.addServer(t, "dc2", "vpn2.example.com:1194")
	// dc2 first: making its self-test probes signs a new CRL, which dc1's
	// state, built after, then holds.
	dc2 := mustState(t, f.a, "dc2")
	dc1 := mustState(t, f.a, "dc1")

	var names []string
	for _, fl := range dc1.Files {
		if !strings.HasPrefix(fl.Name, agentwire.CCDPrefix+"probe") { // the self-test probes' (selftest_test.go)
			names = append(names, fl.Name)
		}
	}
	if !slices.Equal(names, ServerFileNames) {
		t.Fatalf("files: got %v, want %v", names, ServerFileNames)
	}
	modes := map[string]uint32{"server.key": 0o600, "ta.key": 0o600, "crl.pem": 0o644, "server.conf": 0o644, ovpn.SessionHookName: 0o755}
	for n, want := range modes {
		if got := fileOf(t, dc1, n).Mode; got != want {
			t.Errorf("mode of %s: got %04o, want %04o", n, got, want)
		}
	}
	key1, key2 := fileOf(t, dc1, "server.key").Data, fileOf(t, dc2, "server.key").Data
	if bytes.Equal(key1, key2) {
		t.Fatal("dc1 and dc2 got the same server key")
	}
	for _, fl := range dc1.Files {
		// Keys, certificates and CRLs are random bytes in base64 or hex:
		// they may spell "dc2" by chance (this test failed about one run
		// in thirty), so a certificate is read for the names it carries.
		text := fl.Data
		if c, err := pki.ParseCert(fl.Data); err == nil {
			text = []byte(c.Subject.CommonName + " " + strings.Join(c.DNSNames, " "))
		} else if bytes.Contains(fl.Data, []byte("-----BEGIN")) { // keys, CRL: random bytes
			text = nil
		}
		if bytes.Contains(fl.Data, bytes.TrimSpace(key2)) || bytes.Contains(text, []byte("dc2")) {
			t.Errorf("dc1's %s holds something of dc2", fl.Name)
		}
	}
	files, err := f.a.ServerFiles(context.Background(), "dc1")
	if err != nil {
		t.Fatal(err)
	}
	for i, fl := range files {
		if !bytes.Equal(fl.Data, dc1.Files[i].Data) {
			t.Errorf("%s: the state differs from ServerFiles", fl.Name)
		}
	}
	conf := string(fileOf(t, dc1, "server.conf").Data)
	if want := "management " + ovpn.DefaultRunDir + "/dc1.sock unix\n"; !strings.Contains(conf, want) {
		t.Errorf("server.conf lacks %q:\n%s", want, conf)
	}
	if hook := string(fileOf(t, dc1, ovpn.SessionHookName).Data); !strings.Contains(hook, "d='"+ovpn.DefaultRunDir+"/dc1.sessions'\n") {
		t.Errorf("hook names the wrong session folder:\n%s", hook)
	}
	crl, _ := f.a.CRL(context.Background())
	if dc1.CRL.Number != crl.Number || !dc1.CRL.NextUpdate.Equal(crl.NextUpdate) || !bytes.Equal(fileOf(t, dc1, "crl.pem").Data, crl.PEM) {
		t.Errorf("CRL: got %+v, want number %d, next update %v, the same crl.pem", dc1.CRL, crl.Number, crl.NextUpdate)
	}
}

func TestAgentStateRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	t.Run("fail/unknown server", func(t *testing.T) {
		if _, err := f.a.AgentState(ctx, "dc9"); !errors.Is(err, ErrServerNotFound) {
			t.Fatalf("got %v, want ErrServerNotFound", err)
		}
	})
	t.Run("fail/locked", func(t *testing.T) {
		if _, err := f.reopen().AgentState(ctx, "dc1"); !errors.Is(err, ErrLocked) {
			t.Fatalf("got %v, want ErrLocked", err)
		}
	})
}

// TestAgentStateVersions: a revocation moves the version and the hash and
// lists the serial and the user; a change that is not the server's moves
// the version only; a reinstated user is refused no more.
func TestAgentStateVersions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob")
	first := mustState(t, f.a, "dc1") // issues dc1's certificate: a change of its own
	before := mustState(t, f.a, "dc1")
	if before.Version <= first.Version || before.Hash != first.Hash {
		t.Fatalf("after the certificate's change: got %d/%s, want above %d and the same hash", before.Version, before.Hash, first.Version)
	}
	before.Revoked = usersRevoked(t, f, before.Revoked) // not the revoked self-test probe's (selftest_test.go)
	if len(before.Revoked) != 0 || len(before.Refused) != 0 {
		t.Fatalf("before: got revoked %v refused %v, want none", before.Revoked, before.Refused)
	}
	if again := mustState(t, f.a, "dc1"); again.Hash != before.Hash || again.Version != before.Version {
		t.Fatalf("asked twice: got %d/%s, want %d/%s", again.Version, again.Hash, before.Version, before.Hash)
	}

	res, err := f.a.Revoke(ctx, "alice", "key-compromise")
	if err != nil {
		t.Fatal(err)
	}
	revoked := mustState(t, f.a, "dc1")
	if revoked.Version <= before.Version || revoked.Hash == before.Hash {
		t.Fatalf("after revoke: got version %d hash %s, want above %d and another hash", revoked.Version, revoked.Hash, before.Version)
	}
	if !slices.Equal(usersRevoked(t, f, revoked.Revoked), []string{res.Serial}) || !slices.Equal(revoked.Refused, []string{"alice"}) {
		t.Fatalf("after revoke: got revoked %v refused %v, want [%s] [alice]", revoked.Revoked, revoked.Refused, res.Serial)
	}
	if revoked.CRL.Number <= before.CRL.Number {
		t.Errorf("CRL number: got %d, want above %d", revoked.CRL.Number, before.CRL.Number)
	}

	f.addServer(t, "dc2", "vpn2.example.com:1194") // a change, but none of dc1's
	other := mustState(t, f.a, "dc1")
	if other.Version <= revoked.Version || other.Hash != revoked.Hash {
		t.Fatalf("after adding dc2: got version %d hash %s, want above %d and hash %s", other.Version, other.Hash, revoked.Version, revoked.Hash)
	}

	f.add(t, AddOptions{NoBundles: true, Reinstate: true}, "alice")
	back := mustState(t, f.a, "dc1")
	if back.Version <= other.Version || len(back.Refused) != 0 || !slices.Equal(usersRevoked(t, f, back.Revoked), []string{res.Serial}) {
		t.Fatalf("after reinstating: got version %d refused %v revoked %v, want above %d, none refused, the old serial revoked",
			back.Version, back.Refused, back.Revoked, other.Version)
	}
}

// TestAgentStateOnceForMany: many agents of one server asking at one
// version build its state once.
func TestAgentStateOnceForMany(t *testing.T) {
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	mustState(t, f.a, "dc1") // issues the server certificate: a change
	f.bump(t)
	start := f.a.state.builds.Load()
	var wg sync.WaitGroup
	hashes := make([]string, 200)
	for i := range hashes {
		wg.Go(func() {
			st, err := f.a.AgentState(context.Background(), "dc1")
			if err != nil {
				t.Error(err)
			}
			hashes[i] = st.Hash
		})
	}
	wg.Wait()
	if n := f.a.state.builds.Load() - start; n != 1 {
		t.Fatalf("builds for 200 agents at one version: got %d, want 1", n)
	}
	for i, h := range hashes {
		if h == "" || h != hashes[0] {
			t.Fatalf("agent %d: got hash %q, want %q like agent 0", i, h, hashes[0])
		}
	}
}

// bump records a change that alters no server's state.
func (f *fixture) bump(t testing.TB) {
	t.Helper()
	if err := f.a.withRetry(context.Background(), func(q *store.Queries) error {
		return f.a.recordChange(context.Background(), q, ChangeServer, "none", nil)
	}); err != nil {
		t.Fatal(err)
	}
}

func TestWaitChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice")
	f.a.hub.poll = time.Hour // only this process's commits wake waiters
	now, err := f.db.Q().Version(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ok/behind", func(t *testing.T) {
		v, err := f.a.WaitChange(ctx, now-1)
		if err != nil || v != now {
			t.Fatalf("got %d %v, want %d at once", v, err, now)
		}
	})
	t.Run("ok/timeout", func(t *testing.T) {
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		v, err := f.a.WaitChange(c, now)
		if err != nil || v != now {
			t.Fatalf("got %d %v, want %d when the wait ran out", v, err, now)
		}
	})
	t.Run("ok/local commit", func(t *testing.T) {
		got := make(chan int64, 1)
		go func() {
			v, _ := f.a.WaitChange(ctx, now)
			got <- v
		}()
		if _, err := f.a.Revoke(ctx, "alice", ""); err != nil {
			t.Fatal(err)
		}
		want, _ := f.db.Q().Version(ctx)
		select {
		case v := <-got:
			if v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("WaitChange did not return after a commit")
		}
	})
	t.Run("ok/rollback wakes nobody", func(t *testing.T) {
		cur, _ := f.db.Q().Version(ctx)
		boom := errors.New("boom")
		err := f.a.withRetry(ctx, func(q *store.Queries) error {
			if err := f.a.recordChange(ctx, q, ChangeServer, "x", nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if v, _ := f.a.hub.current(); v > cur {
			t.Fatalf("hub version: got %d after a rollback, want at most %d", v, cur)
		}
		f.a.hub.mu.Lock()
		n := len(f.a.hub.pending)
		f.a.hub.mu.Unlock()
		if n != 0 {
			t.Fatalf("pending marks: got %d, want 0", n)
		}
	})
}

// BenchmarkAgentStateFanout500 is the control plane's side of a change
// reaching 500 agents of one server: per op, a change is recorded (outside
// the timer), then 500 agents ask for the state at the new version at
// once. ns/op and allocs/op are for all 500; builds/op shows that the
// state was built once, not 500 times.
func BenchmarkAgentStateFanout500(b *testing.B) {
	const agents = 500
	f := newFixture(b, pki.P256)
	f.addServer(b, "dc1", "vpn1.example.com:1194")
	f.add(b, AddOptions{NoBundles: true}, "alice", "bob")
	if _, err := f.a.Revoke(context.Background(), "alice", ""); err != nil {
		b.Fatal(err)
	}
	if _, err := f.a.AgentState(context.Background(), "dc1"); err != nil {
		b.Fatal(err)
	}
	start := f.a.state.builds.Load()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f.bump(b)
		b.StartTimer()
		var wg sync.WaitGroup
		for range agents {
			wg.Go(func() {
				if _, err := f.a.AgentState(context.Background(), "dc1"); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(f.a.state.builds.Load()-start)/float64(b.N), "builds/op")
}
