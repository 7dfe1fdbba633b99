package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// report makes server's agent report sessions of users, through the
// service, as the agent listener would.
func report(t *testing.T, data, server string, r agentwire.Report) {
	t.Helper()
	ctx := context.Background()
	db, err := authority.OpenDatabase(ctx, filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Service(authority.Options{DataDir: data}).ReportAgent(ctx, server, r); err != nil {
		t.Fatal(err)
	}
}

// TestSessionsAndStatus: `sessions` prints what the agents reported as a
// table or as the API's JSON; `server status` shows every server's agent,
// seen or not, and warns of a CRL about to lapse; bad input exits 2.
func TestSessionsAndStatus(t *testing.T) {
	data, pf := setup(t)
	cli := func(args ...string) result { return run(t, nil, append([]string{"--data", data}, args...)...) }
	if r := cli("server", "add", "dc2", "--remote", "vpn2.example.com:1194"); r.code != 0 {
		t.Fatalf("server add: %+v", r)
	}
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "bob"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	since := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	report(t, data, "dc1", agentwire.Report{Version: 1, CRLNumber: 5, CRLNextUpdate: time.Now().Add(24 * time.Hour), Management: true,
		Sessions: []agentwire.Session{
			{User: "bob", RealAddress: "203.0.113.5:40000", VPNAddress: "10.8.0.3", BytesIn: 2 << 20, BytesOut: 512, Since: since},
			{User: "alice", Serial: "0A1B", RealAddress: "203.0.113.4:1194", VPNAddress: "10.8.0.2", BytesIn: 1536, BytesOut: 10, Since: since},
		}})

	r := cli("sessions")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if r.code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "SERVER USER SERIAL REAL VPN IN OUT SINCE" {
		t.Fatalf("sessions: got %+v, want a header and two rows", r)
	}
	if got := strings.Join(strings.Fields(lines[1]), " "); got != "dc1 alice 0A1B 203.0.113.4:1194 10.8.0.2 1.5KiB 10B 2026-11-30T01:02:03Z" {
		t.Fatalf("alice's row: got %q", got)
	}
	if got := strings.Join(strings.Fields(lines[2]), " "); got != "dc1 bob - 203.0.113.5:40000 10.8.0.3 2.0MiB 512B 2026-11-30T01:02:03Z" {
		t.Fatalf("bob's row: got %q", got)
	}
	r = cli("sessions", "--server", "dc2", "--json")
	if r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("sessions --server dc2 --json: got %+v, want []", r)
	}
	r = cli("sessions", "--json")
	var list []authority.SessionView
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list) != 2 || list[0].User != "alice" || list[0].Server != "dc1" || list[1].BytesIn != 2<<20 {
		t.Fatalf("sessions --json: got %v %s", err, r.out)
	}

	r = cli("server", "status")
	lines = strings.Split(strings.TrimSpace(r.out), "\n")
	if r.code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "SERVER AGENT AGENT-CERT-END LAST-SEEN VERSION LAG CRL NEXT-UPDATE ERROR" {
		t.Fatalf("server status: got %+v", r)
	}
	if f := strings.Fields(lines[1]); len(f) < 9 || f[0] != "dc1" || f[1] != "not-enrolled" || f[2] != "-" || f[4] != "1" || f[6] != "#5" || !strings.Contains(lines[1], "(EXPIRING)") {
		t.Fatalf("dc1's row: got %q", lines[1])
	}
	if got := strings.Join(strings.Fields(lines[2]), " "); got != "dc2 not-enrolled - never - - - - -" {
		t.Fatalf("dc2's row: got %q", got)
	}
	if !strings.Contains(r.err, "warning: the CRL dc1's agent holds lapses") {
		t.Fatalf("server status: no warning of the lapsing CRL: %q", r.err)
	}
	r = cli("server", "status", "--json")
	var agents []authority.AgentView
	if err := json.Unmarshal([]byte(r.out), &agents); err != nil || len(agents) != 2 || !agents[0].CRLExpiring || agents[0].Sessions != 2 || agents[1].Seen() {
		t.Fatalf("server status --json: got %v %s", err, r.out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/unknown server", []string{"sessions", "--server", "dc9"}, "no such server: dc9"},
		{"fail/an argument", []string{"sessions", "dc1"}, "no arguments"},
		{"fail/status with an argument", []string{"server", "status", "dc1"}, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(tc.args...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Fatalf("got %+v, want exit 2 and one line with %q", r, tc.want)
			}
		})
	}
}

// TestDisconnect: disconnect records a request per user and revokes
// nothing; an unknown user, a bad name, a name given twice or a reason of
// two lines exits 2 with one line and records nothing for anyone.
func TestDisconnect(t *testing.T) {
	data, pf := setup(t)
	cli := func(args ...string) result { return run(t, nil, append([]string{"--data", data}, args...)...) }
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "bob"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	report(t, data, "dc1", agentwire.Report{Sessions: []agentwire.Session{{User: "alice", RealAddress: "203.0.113.4:1", Since: time.Now()}}})
	disconnects := func() int { return strings.Count(cli("audit", "--action", "user.disconnect").out, "user.disconnect") }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/unknown user", []string{"disconnect", "alice", "nobody"}, "no such user: nobody"},
		{"fail/bad name", []string{"disconnect", "alice", "Bad;Name"}, "name"},
		{"fail/given twice", []string{"disconnect", "alice", "alice"}, "given twice"},
		{"fail/two-line reason", []string{"disconnect", "alice", "--reason", "a\nb"}, "reason"},
		{"fail/no user", []string{"disconnect"}, "USER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(tc.args...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) || r.out != "" {
				t.Fatalf("got %+v, want exit 2 naming %q", r, tc.want)
			}
			if !strings.HasPrefix(r.err, "vpnkeys: ") || strings.Count(r.err, "vpnkeys: ") != 1 {
				t.Fatalf("got %q, want one error line", r.err)
			}
			if n := disconnects(); n != 0 {
				t.Fatalf("a refused disconnect recorded %d events", n)
			}
		})
	}
	r := cli("disconnect", "alice", "bob", "--reason", "laptop left unlocked")
	if r.code != 0 || !strings.Contains(r.out, "alice: every server's agent asked to end their sessions (1 reported connected") ||
		!strings.Contains(r.out, "bob: every server's agent asked to end their sessions (0 reported connected") {
		t.Fatalf("disconnect: got %+v", r)
	}
	if n := disconnects(); n != 2 {
		t.Fatalf("audit: got %d user.disconnect events, want 2", n)
	}
	if r := cli("list", "--status", "active"); !strings.Contains(r.out, "alice") || !strings.Contains(r.out, "bob") {
		t.Fatalf("after disconnect, want both still active: %s", r.out)
	}
}

// TestSessionsCompletionAndMan: the new commands complete user and server
// names and get man pages like every other command.
func TestSessionsCompletionAndMan(t *testing.T) {
	data, pf := setup(t)
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice", "bob"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ok/disconnect users", []string{"disconnect", "alice", ""}, "bob"},
		{"ok/sessions servers", []string{"sessions", "--server", ""}, "dc1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append([]string{"__complete", "--data", data}, tc.args...)...)
			if lines := strings.Split(r.out, "\n"); !containsLine(lines, tc.want) || containsLine(lines, "alice") {
				t.Fatalf("got %q, want %s offered and not alice", r.out, tc.want)
			}
		})
	}
	dir := t.TempDir()
	if r := run(t, nil, "gen-man", dir); r.code != 0 {
		t.Fatalf("gen-man: %+v", r)
	}
	for _, name := range []string{"vpnkeys-sessions.1", "vpnkeys-server-status.1", "vpnkeys-disconnect.1"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !strings.Contains(string(b), ".SH EXAMPLES") {
			t.Errorf("%s: %v, got %.80q, want a man page with examples", name, err, b)
		}
	}
}
