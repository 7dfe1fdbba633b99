package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// v2State is a tls-crypt-v2 server's state: the server key, the verify
// script and revoked-serials besides the usual files.
func v2State(version int64, key, revoked string) agentwire.State {
	st := simpleState("port 1194\n", "CRL")
	st.Version = version
	st.Files = append(st.Files, file("tls-crypt-v2-server.key", 0o600, key),
		file("tls-crypt-v2-verify.sh", 0o755, "#!/bin/sh\nexit 1\n"), file("revoked-serials", 0o644, revoked))
	st.Hash = hashOf(st)
	return st
}

// TestApplyTLSCryptV2: a tls-crypt-v2 server's files pass validation and
// land with their modes; a new revoked-serials (read per client, as
// crl.pem) restarts nothing, a new server key restarts OpenVPN.
func TestApplyTLSCryptV2(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "server")
	marks := filepath.Join(t.TempDir(), "restarts")
	ap := &Applier{Dir: dir, RestartCommand: "echo restart >> " + marks}
	for _, tc := range []struct {
		name     string
		st       agentwire.State
		restarts int
		changed  string
	}{
		{"ok/first apply", v2State(1, "K1", ""), 1, ""},
		{"ok/new revoked-serials, no restart", v2State(2, "K1", "0A\n"), 1, "revoked-serials"},
		{"ok/new server key restarts", v2State(3, "K2", "0A\n"), 2, "tls-crypt-v2-server.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Validate(tc.st, "dc1"); err != nil {
				t.Fatal(err)
			}
			res, err := ap.Apply(ctx, tc.st)
			if err != nil {
				t.Fatal(err)
			}
			if n := restarts(t, marks); n != tc.restarts {
				t.Fatalf("restarts: got %d, want %d (%+v)", n, tc.restarts, res)
			}
			if tc.changed != "" && strings.Join(res.Changed, ",") != tc.changed {
				t.Fatalf("changed: got %v, want %s", res.Changed, tc.changed)
			}
		})
	}
	got := readDir(t, dir)
	for name, want := range map[string]string{"tls-crypt-v2-server.key": "600:K2", "tls-crypt-v2-verify.sh": "755:#!/bin/sh\nexit 1\n", "revoked-serials": "644:0A\n"} {
		if got[name] != want {
			t.Fatalf("%s: got %q, want %q", name, got[name], want)
		}
	}
}
