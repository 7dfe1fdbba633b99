package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCRLDays: VPNKEYS_CRL_DAYS and the config file's crl_days set the
// lifetime of the CRL `crl --refresh` signs; a value out of 1..3650 is
// refused with exit 2 and changes nothing.
func TestCRLDays(t *testing.T) {
	data, pf := setup(t)
	refresh := func(t *testing.T, env map[string]string, extra ...string) result {
		return run(t, env, append(extra, "--data", data, "--passphrase-file", pf, "crl", "--refresh")...)
	}
	validFor := func(t *testing.T, r result) time.Duration {
		t.Helper()
		f := strings.Fields(r.out) // CRL #N: K revoked, signed DATE TIME, valid until DATE TIME
		if r.code != 0 || len(f) < 10 {
			t.Fatalf("crl --refresh: %+v", r)
		}
		signed, err1 := time.Parse(time.DateTime, f[5]+" "+strings.TrimSuffix(f[6], ","))
		until, err2 := time.Parse(time.DateTime, f[9]+" "+f[10])
		if err1 != nil || err2 != nil {
			t.Fatalf("crl --refresh: %q: %v %v", r.out, err1, err2)
		}
		return until.Sub(signed)
	}
	day := 24 * time.Hour
	t.Run("ok/default", func(t *testing.T) {
		if got := validFor(t, refresh(t, nil)); got != 30*day+5*time.Minute {
			t.Fatalf("got %v, want 30 days from a thisUpdate 5 minutes back", got)
		}
	})
	t.Run("ok/env ten years", func(t *testing.T) {
		got := validFor(t, refresh(t, map[string]string{"VPNKEYS_CRL_DAYS": "3650"}))
		if got < 3649*day || got > 3651*day {
			t.Fatalf("got %v, want about 3650 days", got)
		}
	})
	t.Run("ok/config", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "vpnkeys.toml")
		os.WriteFile(cfg, []byte("crl_days = 7\n"), 0o600)
		if got := validFor(t, refresh(t, nil, "--config", cfg)); got != 7*day+5*time.Minute {
			t.Fatalf("got %v, want 7 days", got)
		}
	})
	before := run(t, nil, "--data", data, "crl", "--info")
	for _, tc := range []struct {
		name string
		env  map[string]string
		cfg  string
		want string
	}{
		{"fail/env zero", map[string]string{"VPNKEYS_CRL_DAYS": "0"}, "", "VPNKEYS_CRL_DAYS \"0\": want 1 to 3650 days"},
		{"fail/env too long", map[string]string{"VPNKEYS_CRL_DAYS": "3651"}, "", "want 1 to 3650 days"},
		{"fail/env not a number", map[string]string{"VPNKEYS_CRL_DAYS": "30d"}, "", "want 1 to 3650 days"},
		{"fail/config", nil, "crl_days = 4000\n", "crl_days 4000: want 1 to 3650 days"},
		{"fail/run dir relative", map[string]string{"VPNKEYS_AGENT_RUN_DIR": "run/agent"}, "", "VPNKEYS_AGENT_RUN_DIR: agent run folder \"run/agent\""},
		{"fail/run dir config", nil, "agent_run_dir = \"/run/a b\"\n", "agent_run_dir: agent run folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			if tc.cfg != "" {
				cfg := filepath.Join(t.TempDir(), "vpnkeys.toml")
				os.WriteFile(cfg, []byte(tc.cfg), 0o600)
				extra = []string{"--config", cfg}
			}
			r := refresh(t, tc.env, extra...)
			if r.code != 2 || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") > 1 {
				t.Fatalf("got exit %d %q, want 2 and %q", r.code, r.err, tc.want)
			}
		})
	}
	if after := run(t, nil, "--data", data, "crl", "--info"); after.out != before.out {
		t.Fatalf("refused runs changed the CRL: got %q, want %q", after.out, before.out)
	}
}

// TestAgentRunDir: VPNKEYS_AGENT_RUN_DIR reaches server.conf and the hook.
func TestAgentRunDir(t *testing.T) {
	data, pf := setup(t)
	out := filepath.Join(t.TempDir(), "srv")
	r := run(t, map[string]string{"VPNKEYS_AGENT_RUN_DIR": "/run/vpnk-test"}, "--data", data, "--passphrase-file", pf, "server", "files", "dc1", "--out", out)
	if r.code != 0 {
		t.Fatalf("server files: %+v", r)
	}
	conf, _ := os.ReadFile(filepath.Join(out, "server.conf"))
	hook, _ := os.ReadFile(filepath.Join(out, "vpnkeys-session.sh"))
	if !strings.Contains(string(conf), "management /run/vpnk-test/dc1.sock unix\n") || !strings.Contains(string(hook), "d='/run/vpnk-test/dc1.sessions'") {
		t.Fatalf("server.conf:\n%s\nhook:\n%s", conf, hook)
	}
}
