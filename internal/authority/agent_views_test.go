package authority

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// enrollForTest records an active agent certificate of server, as a join
// would.
func enrollForTest(t *testing.T, f *fixture, server, serial string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	c := store.Cert{Serial: serial, Kind: store.KindServer, Subject: "agent:" + server, CertPEM: "pem", KeySealed: []byte{1},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0), State: store.StateActive, CreatedAt: now}
	if err := f.db.Q().InsertCert(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func session(user, serial, real string, since time.Time) agentwire.Session {
	return agentwire.Session{User: user, Serial: serial, RealAddress: real, VPNAddress: "10.8.0.2", BytesIn: 10, BytesOut: 20, Since: since}
}

// reportedFixture has servers dc1 (enrolled), dc2 and dc3; dc1's agent
// reported twice (the second report counts), dc2's once, dc3's never. It
// returns the version dc1 applied and the sessions' start.
func reportedFixture(t *testing.T) (*fixture, int64, time.Time) {
	t.Helper()
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	for _, s := range []string{"dc1", "dc2", "dc3"} {
		f.addServer(t, s, s+".example.com:1194")
	}
	enrollForTest(t, f, "dc1", "A1")
	v, _, err := f.a.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	stale := agentwire.Report{Version: v - 1, Sessions: []agentwire.Session{session("zed", "", "198.51.100.9:1", since)}}
	if err := f.a.ReportAgent(ctx, "dc1", stale); err != nil {
		t.Fatal(err)
	}
	r1 := agentwire.Report{Version: v, CRLNumber: 4, CRLNextUpdate: since.AddDate(0, 1, 0), Management: true, Kills: 3, AgentVersion: "1.2",
		Hashes: map[string]string{"crl.pem": "ab12"}, Error: "disk\nfull",
		Sessions: []agentwire.Session{session("bob", "0A:1B", "203.0.113.5:40000", since), session("alice", "", "203.0.113.4:1", since)}}
	r2 := agentwire.Report{Version: v - 2, Sessions: []agentwire.Session{session("carol", "0C", "[2001:db8::1]:5", since)}}
	for srv, r := range map[string]agentwire.Report{"dc1": r1, "dc2": r2} {
		if err := f.a.ReportAgent(ctx, srv, r); err != nil {
			t.Fatalf("ReportAgent(%s): %v", srv, err)
		}
	}
	return f, v, since
}

// TestReportAgentSessions: what agents report shows in Sessions (newest
// report per server, by server then user, filtered by server); an unknown
// server is refused.
func TestReportAgentSessions(t *testing.T) {
	f, _, since := reportedFixture(t)
	ctx := context.Background()
	got, err := f.a.Sessions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Server+"/"+s.User)
	}
	if strings.Join(keys, " ") != "dc1/alice dc1/bob dc2/carol" {
		t.Fatalf("Sessions: got %v, want dc1/alice dc1/bob dc2/carol", keys)
	}
	if b := got[1]; b.Serial != "0A:1B" || b.RealAddress != "203.0.113.5:40000" || !b.Since.Equal(since) || b.Reported.IsZero() {
		t.Fatalf("bob's session: got %+v", b)
	}
	if only, err := f.a.Sessions(ctx, "dc2"); err != nil || len(only) != 1 || only[0].User != "carol" {
		t.Fatalf("Sessions(dc2): got %+v %v, want carol only", only, err)
	}
	if _, err := f.a.Sessions(ctx, "nope"); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("Sessions(nope): got %v, want not found", err)
	}
}

// TestReportAgentStatus: AgentStatus lists every server, enrolled or not,
// seen or not, with its lag; a later report replaces the earlier one; an
// unknown server's report is refused.
func TestReportAgentStatus(t *testing.T) {
	f, v, since := reportedFixture(t)
	ctx := context.Background()
	r1 := agentwire.Report{Version: v}
	status, err := f.a.AgentStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) != 3 || status[0].Server != "dc1" || status[1].Server != "dc2" || status[2].Server != "dc3" {
		t.Fatalf("AgentStatus: got %+v, want dc1, dc2, dc3", status)
	}
	d1, d2, d3 := status[0], status[1], status[2]
	if !d1.Enrolled || d1.Version != v || d1.Lag != 0 || d1.CRLNumber != 4 || !d1.Management || d1.Kills != 3 || d1.Sessions != 2 ||
		d1.Error != "disk full" || !d1.CRLNextUpdate.Equal(since.AddDate(0, 1, 0)) || !d1.Seen() {
		t.Fatalf("dc1: got %+v", d1)
	}
	if d2.Enrolled || d2.Lag != 2 || d2.Sessions != 1 || !d2.Seen() {
		t.Fatalf("dc2: got %+v, want not enrolled, lag 2, 1 session", d2)
	}
	if d3.Seen() || d3.Lag != 0 || d3.Sessions != 0 {
		t.Fatalf("dc3 never reported: got %+v", d3)
	}
	// A change moves the lag of everyone behind it.
	f.addServer(t, "dc4", "dc4.example.com:1194")
	if status, _ = f.a.AgentStatus(ctx); status[0].Lag != 1 {
		t.Fatalf("dc1 after a change: lag %d, want 1", status[0].Lag)
	}
	// The next report replaces the previous one.
	if err := f.a.ReportAgent(ctx, "dc2", agentwire.Report{Version: v}); err != nil {
		t.Fatal(err)
	}
	if only, _ := f.a.Sessions(ctx, "dc2"); len(only) != 0 {
		t.Fatalf("dc2 after an empty report: got %+v, want none", only)
	}
	if err := f.a.ReportAgent(ctx, "nope", r1); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("report of an unknown server: got %v, want not found", err)
	}
}

// TestReportAgentRefused: a report with nonsense in it is refused as
// invalid and the previous report stays.
func TestReportAgentRefused(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "dc1.example.com:1194")
	good := agentwire.Report{Version: 1, Sessions: []agentwire.Session{session("alice", "0A", "203.0.113.4:1", time.Now())}}
	if err := f.a.ReportAgent(ctx, "dc1", good); err != nil {
		t.Fatal(err)
	}
	with := func(change func(r *agentwire.Report)) agentwire.Report {
		r := good
		r.Sessions = append([]agentwire.Session(nil), good.Sessions...)
		change(&r)
		return r
	}
	for name, r := range map[string]agentwire.Report{
		"fail/negative version":   with(func(r *agentwire.Report) { r.Version = -1 }),
		"fail/negative kills":     with(func(r *agentwire.Report) { r.Kills = -1 }),
		"fail/too many sessions":  with(func(r *agentwire.Report) { r.Sessions = make([]agentwire.Session, MaxReportSessions+1) }),
		"fail/empty user":         with(func(r *agentwire.Report) { r.Sessions[0].User = "" }),
		"fail/newline in user":    with(func(r *agentwire.Report) { r.Sessions[0].User = "al\nice" }),
		"fail/serial not hex":     with(func(r *agentwire.Report) { r.Sessions[0].Serial = "zz" }),
		"fail/negative bytes":     with(func(r *agentwire.Report) { r.Sessions[0].BytesIn = -5 }),
		"fail/long address":       with(func(r *agentwire.Report) { r.Sessions[0].RealAddress = strings.Repeat("1", 200) }),
		"fail/hash not hex":       with(func(r *agentwire.Report) { r.Hashes = map[string]string{"crl.pem": "xyz"} }),
		"fail/control in version": with(func(r *agentwire.Report) { r.AgentVersion = "1\x00" }),
	} {
		t.Run(name, func(t *testing.T) {
			if err := f.a.ReportAgent(ctx, "dc1", r); fault.KindOf(err) != fault.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
			if s, _ := f.a.Sessions(ctx, ""); len(s) != 1 || s[0].User != "alice" {
				t.Fatalf("sessions after a refused report: got %+v, want alice's", s)
			}
		})
	}
}

// TestAgentCRLExpiring: the CRL an agent holds is flagged from 3 days
// before its nextUpdate, by the injected clock.
func TestAgentCRLExpiring(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "dc1.example.com:1194")
	var mu sync.Mutex
	// After the server was added: a report older than its server is not shown.
	now := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	opts := f.opts
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := New(f.db, opts)
	next := now.Add(CRLWarnWithin + time.Hour)
	if err := a.ReportAgent(ctx, "dc1", agentwire.Report{Version: 1, CRLNumber: 2, CRLNextUpdate: next}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"ok/3 days and an hour before", now, false},
		{"ok/a second more than 3 days before", next.Add(-CRLWarnWithin - time.Second), false},
		{"ok/exactly 3 days before", next.Add(-CRLWarnWithin), true},
		{"ok/lapsed", next.Add(time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			now = tc.at
			mu.Unlock()
			st, err := a.AgentStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(st) != 1 || !st[0].Seen() || st[0].CRLNumber != 2 {
				t.Fatalf("AgentStatus: got %+v, want dc1's report", st)
			}
			if st[0].CRLExpiring != tc.want {
				t.Fatalf("CRLExpiring at %s (next update %s): got %v, want %v", tc.at, next, st[0].CRLExpiring, tc.want)
			}
		})
	}
}

// TestDisconnect: one transaction records the change, the session end
// (ID = that version, Before = now) and the audit event; the user stays
// active; an unknown user or a bad reason writes nothing.
func TestDisconnect(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "dc1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob")
	since := time.Now().Add(-time.Hour)
	r := agentwire.Report{Sessions: []agentwire.Session{session("alice", "0A", "203.0.113.4:1", since),
		session("alice", "0B", "203.0.113.4:2", since), session("bob", "0C", "203.0.113.5:1", since)}}
	if err := f.a.ReportAgent(ctx, "dc1", r); err != nil {
		t.Fatal(err)
	}
	written := func() string {
		var b strings.Builder
		for _, q := range []string{`SELECT COUNT(*) FROM changes`, `SELECT COUNT(*) FROM session_ends`, `SELECT COUNT(*) FROM audit`} {
			var n int
			f.db.SQL().QueryRow(q).Scan(&n)
			b.WriteString(q + "=" + strconv.Itoa(n) + " ")
		}
		return b.String()
	}
	before := written()
	for name, tc := range map[string]struct {
		user, reason string
		kind         fault.Kind
	}{
		"fail/unknown user":     {"nobody", "", fault.NotFound},
		"fail/bad name":         {"Bad Name", "", fault.Invalid},
		"fail/newline reason":   {"alice", "a\nb", fault.Invalid},
		"fail/too long reason":  {"alice", strings.Repeat("x", 201), fault.Invalid},
		"fail/empty user":       {"", "", fault.Invalid},
		"fail/path in the name": {"../alice", "", fault.Invalid},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := f.a.Disconnect(ctx, tc.user, tc.reason); fault.KindOf(err) != tc.kind {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			if after := written(); after != before {
				t.Fatalf("rows: got %s, want %s", after, before)
			}
		})
	}

	t0 := time.Now().Unix()
	res, err := f.a.Disconnect(ctx, "alice", "  lost laptop ")
	if err != nil {
		t.Fatal(err)
	}
	v, changes, err := f.a.Changes(ctx, res.Version-1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.User != "alice" || res.Version != v || res.Sessions != 2 {
		t.Fatalf("result: got %+v, want alice, version %d, 2 sessions", res, v)
	}
	if len(changes) != 1 || changes[0].Kind != ChangeDisconnect || changes[0].Subject != "alice" {
		t.Fatalf("changes: got %+v, want one user.disconnect of alice", changes)
	}
	ends, err := f.db.Q().SessionEnds(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ends) != 1 || ends[0].ID != v || ends[0].User != "alice" || ends[0].Reason != "lost laptop" || ends[0].Before < t0 || ends[0].Before > time.Now().Unix() {
		t.Fatalf("session ends: got %+v, want one for alice with ID %d and Before now", ends, v)
	}
	evs, err := f.a.Audit(ctx, AuditFilter{Action: ActionDisconnect})
	if err != nil || len(evs) != 1 || evs[0].Target != "alice" || !strings.Contains(string(evs[0].Detail), "lost laptop") {
		t.Fatalf("audit: got %+v %v, want one user.disconnect of alice with the reason", evs, err)
	}
	if d, err := f.a.Show(ctx, "alice"); err != nil || d.Status != StatusActive {
		t.Fatalf("alice after disconnect: got %+v %v, want still active", d.Status, err)
	}
	if _, err := f.a.Disconnect(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if ends, _ := f.db.Q().SessionEnds(ctx, 0); len(ends) != 2 || ends[1].ID <= ends[0].ID {
		t.Fatalf("second disconnect: got %+v, want two ends in version order", ends)
	}
}

// TestReportOfRemovedServer: a removed server's report is no longer shown,
// nor when a server of the same name is added again later.
func TestReportOfRemovedServer(t *testing.T) {
	f, _, _ := reportedFixture(t)
	ctx := context.Background()
	if _, err := f.a.RemoveServer(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	if list, err := f.a.Sessions(ctx, ""); err != nil || len(list) != 2 || list[0].Server != "dc1" || list[1].Server != "dc1" {
		t.Fatalf("sessions after removing dc2: got %+v %v, want dc1's only", list, err)
	}
	later := f.opts
	later.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := New(f.db, later).AddServer(ctx, ServerRequest{Name: "dc2", Remote: "dc2.example.com:1194"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.a.AgentStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range st {
		if v.Server == "dc2" && (v.Seen() || v.Sessions != 0) {
			t.Fatalf("dc2 added again: got %+v, want never seen", v)
		}
	}
	if list, _ := f.a.Sessions(ctx, "dc2"); len(list) != 0 {
		t.Fatalf("sessions of the new dc2: got %+v, want none", list)
	}
}
