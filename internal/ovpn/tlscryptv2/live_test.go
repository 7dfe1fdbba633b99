package tlscryptv2

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// genkeyClient runs `openvpn --genkey tls-crypt-v2-client` with serverKey
// and, when given, base64-encoded metadata, and returns the client key.
func genkeyClient(t *testing.T, serverKey []byte, metadata []byte) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	srv, out := filepath.Join(dir, "server.key"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(srv, serverKey, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--tls-crypt-v2", srv, "--genkey", "tls-crypt-v2-client", out}
	if metadata != nil {
		args = append(args, base64.StdEncoding.EncodeToString(metadata))
	}
	if b, err := exec.Command(testenv.OpenVPN(t), args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, b)
	}
	return os.ReadFile(out)
}

// TestUnwrapGenkey: client keys that OpenVPN 2.6 makes from a vpnkeys
// server key are read by Unwrap, with their metadata, and OpenVPN's limit
// on metadata is MaxMetadataLen.
func TestUnwrapGenkey(t *testing.T) {
	k := newServerKey(t)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	serial, _ := SerialMetadata("0A1B2C")
	for _, tc := range []struct {
		name string
		in   []byte // given to openvpn in base64; nil: none
		want Metadata
	}{
		{"ok/serial", serial.Data, serial},
		{"ok/every byte value", all, Metadata{Data: all}},
		{"ok/733 bytes", make([]byte, MaxMetadataLen), Metadata{Data: make([]byte, MaxMetadataLen)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := genkeyClient(t, k.MarshalPEM(), tc.in)
			if err != nil {
				t.Fatalf("openvpn --genkey: %v", err)
			}
			_, m, err := k.Unwrap(ck)
			if err != nil {
				t.Fatalf("Unwrap: %v", err)
			}
			if m.Type != tc.want.Type || string(m.Data) != string(tc.want.Data) {
				t.Fatalf("got metadata %d %q, want %d %q", m.Type, m.Data, tc.want.Type, tc.want.Data)
			}
		})
	}
	t.Run("ok/no metadata: a timestamp", func(t *testing.T) {
		before := time.Now().Truncate(time.Second)
		ck, err := genkeyClient(t, k.MarshalPEM(), nil)
		if err != nil {
			t.Fatalf("openvpn --genkey: %v", err)
		}
		_, m, err := k.Unwrap(ck)
		if err != nil {
			t.Fatalf("Unwrap: %v", err)
		}
		at, err := m.Timestamp()
		if err != nil || at.Before(before) || at.After(time.Now()) {
			t.Fatalf("got %v, %v, want a time from %v to now", at, err, before)
		}
	})
	t.Run("fail/734 bytes: OpenVPN refuses them too", func(t *testing.T) {
		_, err := genkeyClient(t, k.MarshalPEM(), make([]byte, MaxMetadataLen+1))
		if err == nil || !strings.Contains(err.Error(), "metadata too long") {
			t.Fatalf("got %v, want openvpn's \"metadata too long\"", err)
		}
	})
}

// TestLiveConnect: keys made by vpnkeys work in a real OpenVPN 2.6, on
// either side and mixed with OpenVPN's own.
func TestLiveConnect(t *testing.T) {
	l := newLab(t, "alice", "bob")
	alice, _ := SerialMetadata("0A")
	bob, _ := SerialMetadata("0B")
	t.Run("ok/vpnkeys server key with vpnkeys and openvpn client keys", func(t *testing.T) {
		k := newServerKey(t)
		srv := l.startServer(t, k.MarshalPEM(), "")
		l.connect(t, srv, "alice", must(t)(k.NewClientKey(alice)))
		ck, err := genkeyClient(t, k.MarshalPEM(), bob.Data)
		if err != nil {
			t.Fatalf("openvpn --genkey: %v", err)
		}
		l.connect(t, srv, "bob", ck)
	})
	t.Run("ok/openvpn server key with a vpnkeys client key", func(t *testing.T) {
		dir := t.TempDir()
		out, err := exec.Command(testenv.OpenVPN(t), "--genkey", "tls-crypt-v2-server", filepath.Join(dir, "s.key")).CombinedOutput()
		if err != nil {
			t.Fatalf("openvpn --genkey: %v\n%s", err, out)
		}
		pemKey := readFile(t, filepath.Join(dir, "s.key"))
		k, err := ParseServerKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		srv := l.startServer(t, pemKey, "")
		l.connect(t, srv, "alice", must(t)(k.NewClientKey(alice)))
	})
}

// TestLiveVerify: with `tls-crypt-v2-verify`, a client whose metadata the
// check refuses is dropped before TLS: the server logs the refusal and
// never verifies its certificate, while another client connects. The
// check is a shell script first, then VerifyMetadata in this test binary
// (TestMain), as the agent's subcommand will run it.
func TestLiveVerify(t *testing.T) {
	l := newLab(t, "alice", "mallory")
	k := newServerKey(t)
	t.Run("fail/a script refuses serial DEAD", func(t *testing.T) {
		script := "#!/bin/sh\nIFS= read -r m < \"$metadata_file\"\n" +
			"echo \"$metadata_type $m\" >> " + l.path("verify.log") + "\n" +
			"[ \"$m\" != serial=DEAD ]\n"
		l.write(t, "verify.sh", []byte(script))
		if err := os.Chmod(l.path("verify.sh"), 0o700); err != nil {
			t.Fatal(err)
		}
		srv := l.startServer(t, k.MarshalPEM(), "script-security 2\ntls-crypt-v2-verify "+l.path("verify.sh")+"\n")
		checkDropped(t, l, srv, k)
		got, err := os.ReadFile(l.path("verify.log"))
		if err != nil {
			t.Fatal(err)
		}
		// metadata_type is "0" and metadata_file holds the data without
		// the type byte: the contract VerifyMetadata is written for.
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		if lines[0] != "0 serial=DEAD" || lines[len(lines)-1] != "0 serial=0A" {
			t.Fatalf("the script saw %q, want \"0 serial=DEAD\" first, \"0 serial=0A\" last", lines)
		}
	})
	t.Run("fail/VerifyMetadata refuses revoked serial DEAD", func(t *testing.T) {
		l.write(t, "revoked.txt", []byte("0C\nDEAD\n"))
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		srv := l.startServer(t, k.MarshalPEM(), "script-security 2\ntls-crypt-v2-verify \""+self+" "+l.path("revoked.txt")+"\"\n")
		checkDropped(t, l, srv, k)
		if want := "tls-crypt-v2-verify: certificate revoked: serial DEAD"; !strings.Contains(srv.Log(), want) {
			t.Errorf("the server log lacks %q:\n%s", want, srv.Log())
		}
	})
}

// TestMain runs the test binary as a tls-crypt-v2-verify command when
// OpenVPN starts it as one (TestLiveVerify).
func TestMain(m *testing.M) {
	if os.Getenv("script_type") == "tls-crypt-v2-verify" {
		os.Exit(verifyCommand(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// verifyCommand is what `vpnkeys agent tls-crypt-v2-verify` is to do,
// with a file of revoked serials (one a line) for the agent's list: read
// the metadata OpenVPN hands over, call VerifyMetadata, exit 1 on refusal.
func verifyCommand(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "tls-crypt-v2-verify: want one argument, the revoked list")
		return 1
	}
	list, err := os.ReadFile(args[0])
	if err == nil {
		var data []byte
		if data, err = os.ReadFile(os.Getenv("metadata_file")); err == nil {
			revoked := func(s string) bool { return slices.Contains(strings.Fields(string(list)), s) }
			err = VerifyMetadata(os.Getenv("metadata_type"), data, revoked)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tls-crypt-v2-verify:", err)
		return 1
	}
	return 0
}

// dropped is the refusal a verify command's non-zero exit makes OpenVPN
// 2.6 log for the client's address, before "TLS Error: can not extract
// tls-crypt-v2 client key".
var dropped = regexp.MustCompile(`(?m) (\S+) TLS CRYPT V2 VERIFY SCRIPT ERROR$`)

// checkDropped starts mallory (serial DEAD) and alice (serial 0A) against
// a server whose verify command refuses DEAD, and checks that mallory is
// dropped before TLS and alice connects.
func checkDropped(t *testing.T, l *lab, srv *testenv.Proc, k ServerKey) {
	t.Helper()
	dead, _ := SerialMetadata("DEAD")
	mallory := l.startClient(t, "mallory", must(t)(k.NewClientKey(dead)))
	if srv.WaitFor(30*time.Second, "TLS CRYPT V2 VERIFY SCRIPT ERROR") == "" {
		t.Fatalf("the server logged no verify refusal:\n%s\nmallory:\n%s", srv.Log(), mallory.Log())
	}
	alice, _ := SerialMetadata("0A")
	l.connect(t, srv, "alice", must(t)(k.NewClientKey(alice)))
	log := srv.Log()
	match := dropped.FindStringSubmatch(log)
	if match == nil {
		t.Fatalf("no line matches %q:\n%s", dropped, log)
	}
	addr := match[1]
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, " "+addr+" ") && (strings.Contains(line, "VERIFY OK") || strings.Contains(line, "VERIFY ERROR")) {
			t.Errorf("server line %q: want no certificate check for mallory (%s)", line, addr)
		}
	}
	if n := strings.Count(log, "VERIFY OK: depth=0"); n != 1 || !strings.Contains(log, "VERIFY OK: depth=0, CN=alice") {
		t.Errorf("got %d client certificates checked, want alice's only:\n%s", n, log)
	}
	if !strings.Contains(log, addr+" TLS Error: can not extract tls-crypt-v2 client key") {
		t.Errorf("want the refusal to end in %q:\n%s", "can not extract tls-crypt-v2 client key", log)
	}
	if strings.Contains(mallory.Log(), ready) {
		t.Errorf("mallory got a tunnel:\n%s", mallory.Log())
	}
}

func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}
