package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// selfTestRow is one server of `vpnkeys selftest --json`.
type selfTestRow struct {
	Server string `json:"server"`
	OK     bool   `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// agentSelfTest is the self-test part of one row of `server status --json`.
type agentSelfTest struct {
	Server   string `json:"server"`
	SelfTest *struct {
		At     time.Time `json:"at"`
		OK     bool      `json:"ok"`
		Checks []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	} `json:"selftest"`
}

// newSelfTestFleet is a fleet of three whose agents run the self-test
// every 2 s, and whose serve mails the admin through smtp. The probes run
// through the returned openvpn wrapper.
func newSelfTestFleet(t *testing.T) (f *fleet, smtp *smtptest.Server, wrapper string) {
	t.Helper()
	smtp = smtptest.Start(t, false)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vpnkeys.toml")
	os.WriteFile(cfg, []byte(smtpConfig(smtp)+"\n"), 0o600)
	// The OpenVPN servers live in the fleet's namespace and the agents
	// outside it: their probes enter it through this wrapper, which waits
	// until the fleet is up (so no self-test runs before every server is).
	nsFile := filepath.Join(dir, "netns")
	wrapper = filepath.Join(dir, "openvpn-in-netns")
	os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nwhile [ ! -s %s ]; do sleep 0.1; done\nexec ip netns exec \"$(cat %s)\" %s \"$@\"\n",
		nsFile, nsFile, testenv.OpenVPN(t))), 0o755)
	f = newFleetWith(t, 3, func(_ testing.TB, d *datacenter) {
		d.agentArgs = []string{"--selftest-interval", "2s", "--selftest-timeout", "8s", "--openvpn", wrapper}
	}, "VPNKEYS_CONFIG="+cfg, "VPNKEYS_SMTP_PASSWORD="+smtp.Password)
	os.WriteFile(nsFile, []byte(f.ns.Name), 0o644)
	return f, smtp, wrapper
}

// TestSelfTest runs the self-test against three real OpenVPN servers: the
// agents' scheduled self-tests report to serve (server status shows them)
// and a server that goes down is mailed to the admin once; then
// `vpnkeys selftest` passes on the healthy dc1 and fails, saying why, on
// dc2 (a stale CRL and no CRL check: the revoked probe connects) and dc3
// (down). An unknown server is exit 2.
func TestSelfTest(t *testing.T) {
	f, smtp, wrapper := newSelfTestFleet(t)
	dc3 := f.dcs[2]

	t.Run("ok/agents-report", func(t *testing.T) {
		for _, d := range f.dcs {
			st := waitSelfTest(t, f, d.name, func(s agentSelfTest) bool { return s.SelfTest.OK })
			if len(st.SelfTest.Checks) != 3 {
				t.Errorf("%s: got %d checks, want 3 (tunnel, revoked, crl)", d.name, len(st.SelfTest.Checks))
			}
		}
		if got := subjects(smtp); got != "" {
			t.Errorf("got self-test mails %q while every check passes, want none", got)
		}
	})

	t.Run("fail/down-mailed-once", func(t *testing.T) {
		dc3.vpn.Stop()
		var failedAt time.Time
		waitSelfTest(t, f, dc3.name, func(s agentSelfTest) bool {
			failedAt = s.SelfTest.At
			return !s.SelfTest.OK
		})
		// One more run after the failure was stored: still one mail per check.
		waitSelfTest(t, f, dc3.name, func(s agentSelfTest) bool { return s.SelfTest.At.After(failedAt) })
		mails := map[string]int{}
		for _, s := range strings.Split(subjects(smtp), " | ") {
			mails[s]++
		}
		if out := mustRun(t, f.env, "server", "status"); !strings.Contains(out, "self-test dc1 at ") ||
			!strings.Contains(out, "self-test dc3 at ") || !strings.Contains(out, "tunnel FAIL (no tunnel: the server did not answer") {
			t.Errorf("server status: got\n%s\nwant a self-test line per server, dc3's tunnel failing", out)
		}
		want := "vpnkeys: self-test of dc3 fails: tunnel"
		if mails[want] != 1 || len(mails) != 2 {
			t.Errorf("got mails %v, want one %q and one for the revoked check", mails, want)
		}
	})

	t.Run("cli", func(t *testing.T) { checkSelfTestCLI(t, f, wrapper) })

	t.Run("fail/unknown-server", func(t *testing.T) {
		before := crlNumber(t, f)
		code, out, errs := run(t, f.env, "selftest", "--server", "nosuch")
		if code != 2 || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "nosuch") {
			t.Errorf("selftest --server nosuch: got exit %d, stdout %q, stderr %q; want 2 and one line naming it", code, out, errs)
		}
		if after := crlNumber(t, f); after != before {
			t.Errorf("CRL number went from %d to %d: a probe was made for an unknown server", before, after)
		}
	})

	t.Run("ok/recovery-mailed", func(t *testing.T) {
		dc3.vpn = f.ns.startServer(t, dc3.dir)
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(subjects(smtp), "vpnkeys: self-test of dc3 passes again: tunnel") {
			if time.Now().After(deadline) {
				t.Fatalf("no recovery mail; got %s", subjects(smtp))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// checkSelfTestCLI makes dc2 hold a stale CRL and apply none (its agent
// stopped, OpenVPN without crl-verify: the revoked probe connects) and
// runs `vpnkeys selftest`: dc1 passes, dc2 and the stopped dc3 fail
// saying why.
func checkSelfTestCLI(t *testing.T, f *fleet, wrapper string) {
	dc1, dc2 := f.dcs[0], f.dcs[1]
	// dc2 holds a stale CRL and applies none: its agent is stopped, and
	// OpenVPN runs without crl-verify, so the revoked probe connects.
	dc2.agent.Stop()
	conf := filepath.Join(dc2.dir, "server.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte(strings.Replace(string(b), "crl-verify crl.pem", "", 1)), 0o644)
	dc2.vpn.Stop()
	dc2.vpn = f.ns.startServer(t, dc2.dir)
	mustRun(t, f.env, "crl", "--refresh")
	crl := crlNumber(t, f)
	waitSelfTest(t, f, dc1.name, func(agentSelfTest) bool { return reportedCRL(t, f, dc1.name) == crl })

	code, out, errs := run(t, f.env, "selftest", "--json", "--timeout", "8s", "--openvpn", wrapper)
	if code != 1 {
		t.Fatalf("selftest: got exit %d, want 1\n%s%s", code, out, errs)
	}
	t.Logf("selftest --json:\n%s", out)
	var rows []selfTestRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("selftest --json: %v\n%s", err, out)
	}
	want := map[string]map[string]string{ // server -> check -> "" (ok) or a word of the detail
		"dc1": {"tunnel": "", "revoked": "", "crl": ""},
		"dc2": {"tunnel": "", "revoked": "got a tunnel", "crl": "stale CRL"},
		"dc3": {"tunnel": "did not answer", "revoked": "did not answer", "crl": ""},
	}
	for _, r := range rows {
		for _, c := range r.Checks {
			w, ok := want[r.Server][c.Name]
			switch {
			case !ok:
				t.Errorf("%s: unexpected check %s", r.Server, c.Name)
			case w == "" && !c.OK:
				t.Errorf("%s %s: got FAIL (%s), want ok", r.Server, c.Name, c.Detail)
			case w != "" && (c.OK || !strings.Contains(c.Detail, w)):
				t.Errorf("%s %s: got ok=%v (%s), want FAIL saying %q", r.Server, c.Name, c.OK, c.Detail, w)
			}
			delete(want[r.Server], c.Name)
		}
	}
	for s, m := range want {
		if len(m) > 0 {
			t.Errorf("%s: checks %v missing", s, m)
		}
	}
	code, out, errs = run(t, f.env, "selftest", "--server", "dc1", "--timeout", "8s", "--openvpn", wrapper)
	t.Logf("selftest --server dc1:\n%s", out)
	if code != 0 || strings.Count(out, " ok ") != 3 {
		t.Errorf("selftest --server dc1: got exit %d\n%s%s, want 0 and three ok lines", code, out, errs)
	}
}

// subjects lists the subjects of the self-test mails received.
func subjects(s *smtptest.Server) string {
	var out []string
	for _, m := range s.Messages() {
		for _, l := range strings.Split(string(m.Data), "\n") {
			// The admin also gets serve's expiry digest; only the
			// self-test's mails count here.
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Subject: "); ok && strings.Contains(v, "self-test") {
				out = append(out, v)
			}
		}
	}
	return strings.Join(out, " | ")
}

// waitSelfTest waits until server's agent reported a self-test for which
// cond holds, and returns it.
func waitSelfTest(t testing.TB, f *fleet, server string, cond func(agentSelfTest) bool) agentSelfTest {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last agentSelfTest
	for {
		var rows []agentSelfTest
		out := mustRun(t, f.env, "server", "status", "--json")
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("server status --json: %v\n%s", err, out)
		}
		for _, r := range rows {
			if r.Server == server && r.SelfTest != nil {
				last = r
				if cond(r) {
					return r
				}
			}
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(last)
			t.Fatalf("%s: the self-test reported did not become as wanted; last: %s", server, b)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// crlNumber is the current CRL's number (crl --info).
func crlNumber(t testing.TB, f *fleet) int64 {
	t.Helper()
	out := mustRun(t, f.env, "crl", "--info")
	var n int64
	if _, err := fmt.Sscanf(out, "CRL #%d:", &n); err != nil || n == 0 {
		t.Fatalf("crl --info: %v\n%s", err, out)
	}
	return n
}

// reportedCRL is the CRL number server's agent last reported.
func reportedCRL(t testing.TB, f *fleet, server string) int64 {
	t.Helper()
	var rows []struct {
		Server    string `json:"server"`
		CRLNumber int64  `json:"crl_number"`
	}
	out := mustRun(t, f.env, "server", "status", "--json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Server == server {
			return r.CRLNumber
		}
	}
	return 0
}
