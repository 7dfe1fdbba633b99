package agent

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// crlPEM signs a CRL listing serials.
func crlPEM(t *testing.T, ca testCA, number int64, serials ...*big.Int) []byte {
	t.Helper()
	var rev []pki.Revoked
	for _, s := range serials {
		rev = append(rev, pki.Revoked{Serial: s, At: time.Now(), Reason: pki.Reason(0)})
	}
	der, err := ca.CreateCRL(number, rev, time.Now().Add(-5*time.Minute), time.Now().Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return pki.CRLPEM(der)
}

func file(name string, mode uint32, data string) agentwire.File {
	return agentwire.File{Name: name, Mode: mode, Data: []byte(data)}
}

// simpleState is a state with plain files.
func simpleState(conf, crl string) agentwire.State {
	st := agentwire.State{Server: "dc1", Version: 1, Files: []agentwire.File{
		file("server.conf", 0o644, conf), file("server.key", 0o600, "KEY"),
		file("crl.pem", 0o644, crl), file("vpnkeys-session.sh", 0o755, "#!/bin/sh\nexit 0\n"),
	}}
	st.Hash = hashOf(st)
	return st
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fi, _ := e.Info()
		out[e.Name()] = strconv.FormatUint(uint64(fi.Mode().Perm()), 8) + ":" + string(b)
	}
	return out
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "server")
	marks := filepath.Join(t.TempDir(), "restarts")
	now := time.Date(2026, 11, 30, 3, 0, 0, 400e6, time.UTC)
	ap := &Applier{Dir: dir, RestartCommand: "echo restart >> " + marks, Now: func() time.Time { return now }}

	t.Run("ok/first apply", func(t *testing.T) {
		res, err := ap.Apply(ctx, simpleState("port 1194\n", "CRL-1"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"server.conf": "644:port 1194\n", "server.key": "600:KEY", "crl.pem": "644:CRL-1", "vpnkeys-session.sh": "755:#!/bin/sh\nexit 0\n", "ccd": "755:"}
		if got := readDir(t, dir); !mapsEqual(got, want) {
			t.Errorf("folder: got %v, want %v", got, want)
		}
		if len(res.Changed) != 4 || !res.Restarted || restarts(t, marks) != 1 {
			t.Errorf("got %+v, %d restarts, want 4 files changed and 1 restart", res, restarts(t, marks))
		}
		checkMode(t, dir, 0o755)
	})
	t.Run("ok/same state changes nothing", func(t *testing.T) {
		res, err := ap.Apply(ctx, simpleState("port 1194\n", "CRL-1"))
		if err != nil || len(res.Changed) != 0 || res.Restarted {
			t.Fatalf("got %+v, %v, want nothing changed", res, err)
		}
	})
	t.Run("ok/same-size CRL in the same second moves mtime, no restart", func(t *testing.T) {
		before, _ := os.Stat(filepath.Join(dir, "crl.pem"))
		res, err := ap.Apply(ctx, simpleState("port 1194\n", "CRL-2"))
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(filepath.Join(dir, "crl.pem"))
		if after.ModTime().Unix() <= before.ModTime().Unix() {
			t.Errorf("crl.pem mtime: got %v, want past %v (OpenVPN would not reload it)", after.ModTime(), before.ModTime())
		}
		if res.Restarted || restarts(t, marks) != 1 || strings.Join(res.Changed, ",") != "crl.pem" {
			t.Errorf("got %+v, %d restarts, want crl.pem changed and no restart", res, restarts(t, marks))
		}
	})
	t.Run("ok/server.conf change restarts", func(t *testing.T) {
		res, err := ap.Apply(ctx, simpleState("port 1195\n", "CRL-2"))
		if err != nil || !res.Restarted || restarts(t, marks) != 2 {
			t.Fatalf("got %+v, %v, %d restarts, want a second restart", res, err, restarts(t, marks))
		}
	})
	t.Run("fail/restart command fails, files stay applied", func(t *testing.T) {
		bad := &Applier{Dir: dir, RestartCommand: "echo oops; exit 3"}
		_, err := bad.Apply(ctx, simpleState("port 1196\n", "CRL-2"))
		if !errors.Is(err, ErrRestart) {
			t.Fatalf("got %v, want ErrRestart", err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "server.conf")); string(b) != "port 1196\n" {
			t.Errorf("server.conf: got %q", b)
		}
	})
}

func restarts(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	return strings.Count(string(b), "restart")
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestValidate(t *testing.T) {
	ok := simpleState("port 1194\n", "CRL")
	ok.Revoked = []string{"0A1B", "0a:1b:ff", "00FF"}
	ok.Refused = []string{"zack"}
	ok.End = []agentwire.End{{ID: 1, User: "bob", Before: time.Now()}}
	ok.Files = append(ok.Files, file("ccd/alice", 0o644, "ifconfig-push 10.8.0.2 255.255.255.0\n"))
	if err := Validate(ok, "dc1"); err != nil {
		t.Fatalf("ok state: %v", err)
	}
	for name, mutate := range map[string]func(*agentwire.State){
		"fail/path name":        func(s *agentwire.State) { s.Files[0].Name = "../server.conf" },
		"fail/absolute name":    func(s *agentwire.State) { s.Files[0].Name = "/etc/passwd" },
		"fail/unknown name":     func(s *agentwire.State) { s.Files[0].Name = "client.conf" },
		"fail/dot file":         func(s *agentwire.State) { s.Files[0].Name = ".vpnkeys-files" },
		"fail/mode 0777":        func(s *agentwire.State) { s.Files[0].Mode = 0o777 },
		"fail/setuid":           func(s *agentwire.State) { s.Files[3].Mode = 0o4755 },
		"fail/file twice":       func(s *agentwire.State) { s.Files = append(s.Files, s.Files[0]) },
		"fail/other server":     func(s *agentwire.State) { s.Server = "dc2" },
		"fail/no hash":          func(s *agentwire.State) { s.Hash = "" },
		"fail/bad serial":       func(s *agentwire.State) { s.Revoked = []string{"zz"} },
		"fail/bad refused user": func(s *agentwire.State) { s.Refused = []string{"../x"} },
		"fail/end without time": func(s *agentwire.State) { s.End = []agentwire.End{{User: "bob"}} },
		"fail/ccd nested":       func(s *agentwire.State) { s.Files[0].Name = "ccd/a/b" },
		"fail/ccd parent":       func(s *agentwire.State) { s.Files[0].Name = "ccd/../server.conf" },
		"fail/ccd no user":      func(s *agentwire.State) { s.Files[0].Name = "ccd/" },
		"fail/ccd bad user":     func(s *agentwire.State) { s.Files[0].Name = "ccd/Alice Smith" },
		"fail/other folder":     func(s *agentwire.State) { s.Files[0].Name = "keys/alice" },
	} {
		t.Run(name, func(t *testing.T) {
			st := simpleState("port 1194\n", "CRL")
			st.Files = append([]agentwire.File(nil), st.Files...)
			mutate(&st)
			if err := Validate(st, "dc1"); !errors.Is(err, ErrMalformedState) {
				t.Fatalf("got %v, want ErrMalformedState", err)
			}
		})
	}
}

// offlineRunner is a runner of server dc1 with no control plane.
func offlineRunner(t *testing.T, dir string) *runner {
	state := t.TempDir()
	return newRunner(Config{StateDir: state, Dir: dir}, &Client{id: Identity{Server: "dc1"}})
}

// TestRejectedState: a malformed state from the control plane changes no
// file, keeps the applied state and is counted and reported.
func TestRejectedState(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "server")
	r := offlineRunner(t, dir)
	good := simpleState("port 1194\n", "CRL-1")
	if err := r.take(ctx, good); err != nil {
		t.Fatal(err)
	}
	before := readDir(t, dir)
	saved, _ := os.ReadFile(filepath.Join(r.cfg.StateDir, StateFile))
	if len(saved) == 0 {
		t.Fatal("no state.json after an apply")
	}
	checkMode(t, filepath.Join(r.cfg.StateDir, StateFile), 0o600)
	bad := simpleState("port 9999\n", "CRL-2")
	bad.Version = 2
	bad.Files = append(bad.Files, file("../../etc/cron.d/x", 0o644, "evil"))
	if err := r.take(ctx, bad); !errors.Is(err, ErrMalformedState) {
		t.Fatalf("got %v, want ErrMalformedState", err)
	}
	if got := readDir(t, dir); !mapsEqual(got, before) {
		t.Errorf("folder changed: got %v, want %v", got, before)
	}
	if now, _ := os.ReadFile(filepath.Join(r.cfg.StateDir, StateFile)); !bytes.Equal(now, saved) {
		t.Error("state.json changed")
	}
	rep := r.report()
	if rep.Version != 1 || !strings.Contains(rep.Error, "version 2") {
		t.Errorf("got report version %d error %q, want 1 and the rejection", rep.Version, rep.Error)
	}
	if got := scrape(t, r.m); !strings.Contains(got, "vpnkeys_agent_apply_errors_total 1\n") || !strings.Contains(got, "vpnkeys_agent_applied_version 1\n") {
		t.Errorf("metrics: got\n%s\nwant 1 apply error, version 1", got)
	}
}

// TestFullDisk: on a really full filesystem the apply fails, every old
// file stays as it was and no temporary file is left.
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := smallDisk(t, 64<<10)
	r := offlineRunner(t, dir)
	if err := r.take(ctx, simpleState("port 1194\n", "CRL-1")); err != nil {
		t.Fatal(err)
	}
	before := readDir(t, dir)
	fillDisk(t, dir, 8<<10)
	big := simpleState("port 1195\n", strings.Repeat("C", 32<<10)) // server.conf fits, crl.pem does not
	big.Version = 2
	err := r.take(ctx, big)
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("got %v, want no space left", err)
	}
	after := readDir(t, dir)
	delete(after, "filler")
	if !mapsEqual(after, before) {
		t.Errorf("folder after the failed apply: got %v, want %v", after, before)
	}
	if rep := r.report(); rep.Version != 1 || rep.Error == "" {
		t.Errorf("report: got version %d, error %q, want 1 and the failure", rep.Version, rep.Error)
	}
}

// scrape reads the metrics as Prometheus would.
func scrape(t *testing.T, m *metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// smallDisk mounts a tmpfs of size bytes (root only) and returns its path.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	if !testenv.IsRoot() {
		testenv.Missing(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size)+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fillDisk leaves about free bytes on dir's filesystem.
func fillDisk(t *testing.T, dir string, free int) {
	t.Helper()
	fh, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 1024)
	for {
		if _, err := fh.Write(buf); err != nil {
			break
		}
	}
	fh.Sync()
	fi, _ := fh.Stat()
	if err := fh.Truncate(fi.Size() - int64(free)); err != nil {
		t.Fatal(err)
	}
}
