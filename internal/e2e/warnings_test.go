package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestWarningRenewal, at real time, with a real OpenVPN server kept by a
// real agent: alice's certificate ends in 5 days; serve's warning pass at
// start mails her the 7-day warning through a real SMTP server; the test
// follows the renewal link in the mail (the page, then the download): the
// new profile connects, the old certificate's session is ended by the
// agent and the old profile is refused.
func TestWarningRenewal(t *testing.T) {
	smtp := smtptest.Start(t, false)
	cfg := filepath.Join(t.TempDir(), "vpnkeys.toml")
	writeFile(t, cfg, smtpConfig(smtp)+"\n")
	// The run folder exists before OpenVPN starts, as systemd's
	// RuntimeDirectory makes it on a host: the fleet starts OpenVPN as soon
	// as server.conf appears, which under load can be before the agent made
	// the folder (after applying the firewall).
	runDir := func(t testing.TB, d *datacenter) {
		if err := os.MkdirAll(filepath.Join(filepath.Dir(filepath.Dir(d.dir)), "run"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := newFleetWith(t, 1, runDir, "VPNKEYS_CONFIG="+cfg, "VPNKEYS_SMTP_PASSWORD="+smtp.Password)
	d := f.dcs[0]
	mustRun(t, f.env, "add", "alice", "--days", "5", "--email", "alice@example.com", "--lang", "de")
	old := keep(t, filepath.Join(f.data, "bundles", "alice", "alice.ovpn"))
	oldSession := f.dial(t, old, d)

	f.serve.Stop() // serve sends the warnings due as it starts
	f.startServe(t)
	msg := waitMailTo(t, smtp, "alice@example.com", 30*time.Second)
	raw := strings.ReplaceAll(strings.ReplaceAll(string(msg.Data), "=\r\n", ""), "=3D", "=")
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/l/l_[A-Za-z0-9_-]+`).FindString(raw)
	if msg.To[0] != "alice@example.com" || link == "" {
		t.Fatalf("warning mail to %v without a link:\n%s", msg.To, raw)
	}
	var rep struct {
		Sent []struct {
			User      string `json:"user"`
			Threshold int    `json:"threshold"`
			Passed    bool   `json:"passed"`
		} `json:"sent"`
	}
	out := mustRun(t, f.env, "warnings", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rep.Sent); !strings.Contains(got, "{alice 7 false}") || !strings.Contains(got, "{alice 30 true}") {
		t.Fatalf("warnings --json: got %s, want alice's 7-day warning mailed and the 30-day one passed", got)
	}

	profile := followLink(t, link, "verlängert Ihren VPN-Zugang")
	renewed := filepath.Join(t.TempDir(), "alice.ovpn")
	writeFile(t, renewed, string(profile))

	waitAll(t, []*testenv.Proc{oldSession}, halted, 30*time.Second)
	if ok, log := f.ns.connect(t, f.profileFor(t, old, d)); ok {
		t.Fatalf("the old certificate's profile still connects:\n%s", log)
	}
	f.dial(t, renewed, d)
	resp, _ := http.PostForm(link, url.Values{"format": {"ovpn"}})
	again, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("second use of the renewal link: got %d, want 410\n%s", resp.StatusCode, again)
	}
	if strings.Contains(f.serve.Log(), strings.TrimPrefix(link[strings.Index(link, "/l/"):], "/l/")) {
		t.Fatal("the renewal link's token reached serve's log")
	}
}

// TestWarningsBadInput: a warning schedule that makes no sense is one
// line and exit 2, from the config file or the environment, before
// anything is opened.
func TestWarningsBadInput(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VPNKEYS_DATA=" + filepath.Join(dir, "data")}
	for name, c := range map[string]struct {
		conf, env, want string
	}{
		"fail/zero":       {"warn_days = [30, 0]", "", "warn_days: 0: want each 1 to 365 days"},
		"fail/too far":    {"warn_days = [400]", "", "warn_days: 400: want each 1 to 365 days"},
		"fail/twice":      {"warn_days = [7, 7]", "", "warn_days: 7 given twice"},
		"fail/too many":   {"warn_days = [1,2,3,4,5,6,7,8,9,10,11]", "", "warn_days: 11 entries: want at most 10"},
		"fail/not a list": {`warn_days = "30"`, "", "warn_days"},
		"fail/env":        {"", "30,x", `VPNKEYS_WARN_DAYS "30,x"`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(dir, "c.toml")
			writeFile(t, cfg, c.conf+"\n")
			e := append(env, "VPNKEYS_CONFIG="+cfg)
			if c.env != "" {
				e = append(e, "VPNKEYS_WARN_DAYS="+c.env)
			}
			code, out, errs := run(t, e, "warnings")
			if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
				t.Errorf("got exit %d, stderr %q; want 2 and one line with %q", code, errs, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Error("the data folder was created")
			}
		})
	}
}

// followLink opens a one-time link's page, which must say pageWants, and
// downloads its profile as an employee's browser does.
func followLink(t testing.TB, link, pageWants string) []byte {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), pageWants) {
		t.Fatalf("link page: got %d, want 200 with %q\n%s", resp.StatusCode, pageWants, page)
	}
	resp, err = http.PostForm(link, url.Values{"format": {"ovpn"}})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(profile), "BEGIN CERTIFICATE") {
		t.Fatalf("download: got %d, want 200 and a profile\n%s", resp.StatusCode, profile)
	}
	return profile
}

// smtpConfig is the [smtp] section for the test server s.
func smtpConfig(s *smtptest.Server) string {
	return fmt.Sprintf(`[smtp]
host = "127.0.0.1"
port = %d
tls = "starttls"
username = %q
from = "vpn@example.com"
admin = "admin@example.com"
root_ca_file = %q
backoff = "100ms"`, s.Port, s.User, s.CAFile)
}

// waitMailTo waits for a mail to addr.
func waitMailTo(t testing.TB, s *smtptest.Server, addr string, timeout time.Duration) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range s.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s; got %d others", addr, len(s.Messages()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
