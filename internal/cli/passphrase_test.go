package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's controlling side and the terminal
// a command reads from.
func openPTY(t *testing.T) (ctl, tty *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ctl.Close() })
	if err := unix.IoctlSetPointerInt(int(ctl.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ctl.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	go func() { // drain the echo
		b := make([]byte, 1024)
		for {
			if _, err := ctl.Read(b); err != nil {
				return
			}
		}
	}()
	return ctl, tty
}

// TestNewPassphrase: a new CA passphrase is asked as such, must be as
// long as an admin password, and a typo at a terminal can be corrected.
func TestNewPassphrase(t *testing.T) {
	t.Run("ok/terminal with a weak try and a typo", func(t *testing.T) {
		ctl, tty := openPTY(t)
		ctl.Write([]byte("abc\nlong enough pass 1\nlong enough pass X\nlong enough pass 1\nlong enough pass 1\n"))
		data := filepath.Join(t.TempDir(), "data")
		var out, errb bytes.Buffer
		code := Run(context.Background(), []string{"--data", data, "init"}, Stdio{In: tty, Out: &out, Err: &errb})
		if code != 0 {
			t.Fatalf("init: exit %d, stderr %q", code, errb.String())
		}
		for _, want := range []string{"New CA passphrase: ", "Repeat the new CA passphrase: ", "at least 12 characters", "differ; try again"} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("prompts: got %q, want %q in them", errb.String(), want)
			}
		}
		r := run(t, map[string]string{EnvPassphrase: "long enough pass 1"}, "--data", data, "add", "alice", "--remote", "vpn.example.com")
		if r.code != 0 {
			t.Fatalf("unlocking with the passphrase entered: %+v", r)
		}
	})
	t.Run("fail/terminal three typos", func(t *testing.T) {
		ctl, tty := openPTY(t)
		ctl.Write([]byte("long enough pass 1\nlong enough pass 2\nabc\nlong enough pass 3\nlong enough pass 4\n"))
		data := filepath.Join(t.TempDir(), "data")
		var out, errb bytes.Buffer
		code := Run(context.Background(), []string{"--data", data, "init"}, Stdio{In: tty, Out: &out, Err: &errb})
		if code != 2 || !strings.Contains(errb.String(), "vpnkeys: ") || !strings.Contains(errb.String(), "the passphrases differ") {
			t.Fatalf("got exit %d %q, want 2 saying they differ", code, errb.String())
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("data folder: got %v, want none", err)
		}
	})
	dir := t.TempDir()
	weak := filepath.Join(dir, "weak")
	os.WriteFile(weak, []byte("a\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"fail/weak file", nil, []string{"--passphrase-file", weak, "init"}},
		{"fail/weak env", map[string]string{EnvPassphrase: "abc"}, []string{"init"}},
		{"fail/weak env on first add", map[string]string{EnvPassphrase: "abc"}, []string{"add", "alice", "--remote", "vpn.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			r := run(t, tc.env, append([]string{"--data", data}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.err, "at least 12 characters") {
				t.Fatalf("got %+v, want exit 2 asking for 12 characters", r)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("data folder: got %v, want none", err)
			}
		})
	}
}
