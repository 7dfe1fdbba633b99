package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCARolloverCLI: start, status and finish; bad input (finish without
// start, start twice, --days out of range or not extending the CA) exits
// 2 with one line and changes nothing (ca show --json is the same).
func TestCARolloverCLI(t *testing.T) {
	data, pf := setup(t)
	ca := func(t *testing.T, args ...string) result {
		return run(t, nil, append([]string{"--data", data, "--passphrase-file", pf, "ca"}, args...)...)
	}
	show := func(t *testing.T) string {
		t.Helper()
		r := ca(t, "show", "--json")
		if r.code != 0 {
			t.Fatalf("ca show: %+v", r)
		}
		return r.out
	}
	refused := func(t *testing.T, want string, args ...string) {
		t.Helper()
		before := show(t)
		r := ca(t, args...)
		if r.code != 2 || !strings.Contains(r.err, want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Fatalf("ca %v: got %d %q, want exit 2 and one line with %q", args, r.code, r.err, want)
		}
		if after := show(t); after != before {
			t.Fatalf("ca %v changed the CA:\n%s\n%s", args, before, after)
		}
	}
	t.Run("fail/finish without start", func(t *testing.T) {
		refused(t, "no CA rollover is under way", "rollover", "finish")
	})
	t.Run("fail/bad days", func(t *testing.T) {
		refused(t, "1 to 36500 days", "rollover", "start", "--days", "0")
		refused(t, "not after the current one", "rollover", "start", "--days", "10")
	})
	if r := ca(t, "rollover", "start", "--days", "7300"); r.code != 0 || !strings.Contains(r.out, "new certificate:") {
		t.Fatalf("rollover start: %+v", r)
	}
	t.Run("fail/start twice", func(t *testing.T) {
		refused(t, "a CA rollover is under way already", "rollover", "start")
	})
	out := t.TempDir()
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "server", "files", "dc1", "--out", out); r.code != 0 {
		t.Fatalf("server files: %+v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "ca.crt")); strings.Count(string(b), "BEGIN CERTIFICATE") != 1 {
		t.Fatalf("the server's ca.crt during the rollover holds %d certificates, want the new one alone", strings.Count(string(b), "BEGIN CERTIFICATE"))
	}
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "zoe"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "bundles", "zoe", "ca.crt")); strings.Count(string(b), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("a bundle's ca.crt during the rollover holds %d certificates, want both", strings.Count(string(b), "BEGIN CERTIFICATE"))
	}
	if r := ca(t, "rollover", "status"); r.code != 0 || !strings.Contains(r.out, "rollover:") || !strings.Contains(r.out, "finish") {
		t.Fatalf("rollover status: %+v", r)
	}
	if r := ca(t, "rollover", "finish"); r.code != 0 || strings.Contains(r.out, "new certificate:") {
		t.Fatalf("rollover finish: %+v", r)
	}
	if r := ca(t, "show"); r.code != 0 || !strings.Contains(r.out, "next step:       none") {
		t.Fatalf("ca show after finish: %+v", r)
	}
}
