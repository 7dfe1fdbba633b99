package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestAgentsEveryDatacenter: three real OpenVPN 2.6 servers, each kept by
// a real `vpnkeys agent`, one `vpnkeys serve`. A revoke ends the revoked
// user's sessions on all three (the clients log the server-pushed halt)
// and a reconnect is refused everywhere, while another user's sessions
// stay; a renewal ends only the old certificate's session; a revocation
// made while the control plane is down reaches the agents when it is back;
// disconnect ends sessions without revoking.
func TestAgentsEveryDatacenter(t *testing.T) {
	f := newFleet(t, 3)
	mustRun(t, f.env, "add", "alice", "bob", "carol", "dave")
	profile := func(u string) string { return keep(t, filepath.Join(f.data, "bundles", u, u+".ovpn")) }
	alice, bob, carol, dave := profile("alice"), profile("bob"), profile("carol"), profile("dave")
	clients := map[string][]*testenv.Proc{}
	for _, d := range f.dcs {
		for u, p := range map[string]string{"alice": alice, "bob": bob} {
			clients[u] = append(clients[u], f.dial(t, p, d))
		}
	}
	f.waitSessions(t, 6)

	start := time.Now()
	mustRun(t, f.env, "revoke", "alice")
	took := waitAll(t, clients["alice"], halted, 30*time.Second)
	t.Logf("revoke-to-halt on %d servers: %v after the revoke returned", len(f.dcs), took.Sub(start).Round(time.Millisecond))
	for i, c := range clients["bob"] {
		if c.Exited(0) {
			t.Fatalf("bob's session on %s ended with alice's:\n%s", f.dcs[i].name, c.Log())
		}
	}
	for _, d := range f.dcs {
		if ok, log := f.ns.connect(t, f.profileFor(t, alice, d)); ok {
			t.Fatalf("revoked alice reconnected to %s:\n%s", d.name, log)
		}
	}

	// OpenVPN keeps one session per name (no duplicate-cn: fixed
	// addresses need it), so the new certificate's session starts once the
	// old ones are gone; the agent's periodic sweep would end it by now if
	// it judged sessions by name rather than by certificate.
	t.Run("ok/renewal-ends-only-the-old-certificate", func(t *testing.T) {
		mustRun(t, f.env, "renew", "bob")
		bob2 := profile("bob")
		waitAll(t, clients["bob"], halted, 30*time.Second)
		fresh := f.dial(t, bob2, f.dcs[0])
		f.waitUser(t, "bob")
		time.Sleep(6 * time.Second) // past one sweep (every 5 s): a wrong kill would have happened
		if fresh.Exited(0) || strings.Contains(fresh.Log(), halted) {
			t.Fatalf("bob's session on his new certificate ended:\n%s", fresh.Log())
		}
	})

	t.Run("ok/control-plane-down", func(t *testing.T) {
		c := f.dial(t, carol, f.dcs[1])
		f.serve.Stop()
		mustRun(t, f.env, "revoke", "carol")
		time.Sleep(2 * time.Second)
		if c.Exited(0) {
			t.Fatal("carol's session ended with the control plane down: the test lost its premise")
		}
		f.startServe(t)
		waitAll(t, []*testenv.Proc{c}, halted, 60*time.Second)
	})

	t.Run("ok/disconnect-without-revoking", func(t *testing.T) {
		c := f.dial(t, dave, f.dcs[2])
		f.waitUser(t, "dave")
		mustRun(t, f.env, "disconnect", "dave")
		waitAll(t, []*testenv.Proc{c}, halted, 30*time.Second)
		f.dial(t, dave, f.dcs[2]) // not revoked: dave comes back
	})

	t.Run("ok/server-status", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var st []struct {
				Server   string `json:"server"`
				Lag      int64  `json:"lag"`
				Enrolled bool   `json:"enrolled"`
				Error    string `json:"error"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, f.env, "server", "status", "--json")), &st); err != nil {
				t.Fatal(err)
			}
			ok := len(st) == len(f.dcs)
			for _, s := range st {
				ok = ok && s.Enrolled && s.Lag == 0 && s.Error == ""
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("server status: %+v, want every agent enrolled, caught up and without error", st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// waitAll waits until every client's log has line, and returns when the
// last one was seen.
func waitAll(t testing.TB, clients []*testenv.Proc, line string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := slices.DeleteFunc(slices.Clone(clients), func(c *testenv.Proc) bool { return strings.Contains(c.Log(), line) })
		if len(left) == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d clients never logged %q; one of them:\n%s", len(left), len(clients), line, left[0].Log())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sessionRow is what `vpnkeys sessions --json` prints per session.
type sessionRow struct {
	Server string `json:"server"`
	User   string `json:"user"`
	Serial string `json:"serial"`
}

func (f *fleet) sessions(t testing.TB) []sessionRow {
	t.Helper()
	var rows []sessionRow
	if err := json.Unmarshal([]byte(mustRun(t, f.env, "sessions", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// waitSessions waits until the agents report n sessions, each with its
// certificate's serial (the session hook works as generated).
func (f *fleet) waitSessions(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := f.sessions(t)
		known := 0
		for _, r := range rows {
			if r.Serial != "" {
				known++
			}
		}
		if known == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions: got %+v, want %d with serials", rows, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUser waits until the agents report a session of user.
func (f *fleet) waitUser(t testing.TB, user string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !slices.ContainsFunc(f.sessions(t), func(r sessionRow) bool { return r.User == user }) {
		if time.Now().After(deadline) {
			t.Fatalf("no session of %s reported", user)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAgentFollowsAnotherInstance: two serve instances on one PostgreSQL;
// a revoke made through instance A's API reaches the agent long-polling
// instance B (LISTEN/NOTIFY wakes B at A's commit), which ends the session.
func TestAgentFollowsAnotherInstance(t *testing.T) {
	f := newFleet(t, 1, "VPNKEYS_DB="+pgtest.Start(t))
	mustRun(t, f.env, "add", "erin")
	c := f.dial(t, keep(t, filepath.Join(f.data, "bundles", "erin", "erin.ovpn")), f.dcs[0])
	f.waitUser(t, "erin")
	tok := strings.TrimSpace(mustRun(t, f.env, "token", "create", "e2e"))
	a := startInstance(t, f.env)
	req, _ := http.NewRequest("POST", a.base+"/api/v1/users/erin/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke on instance A: %s", resp.Status)
	}
	took := waitAll(t, []*testenv.Proc{c}, halted, 30*time.Second)
	t.Logf("revoke on A to halt through B's agent: %v", took.Sub(start).Round(time.Millisecond))
}
