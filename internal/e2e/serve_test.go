package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/vpnkeys once per test run.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpnkeys-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vpnkeys")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/vpnkeys")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// cli runs the real binary and fails the test on a non-zero exit.
func cli(t testing.TB, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), withRunDir(t, env)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("vpnkeys %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// TestServe drives the real binary: `vpnkeys serve` mails a one-time link
// through a real SMTP server (STARTTLS, AUTH); the test follows the link
// from the mail, downloads the profile, and the profile connects to a real
// OpenVPN server; the second click gets the "already used" page. Then
// SIGTERM stops the server gracefully while a request is in flight: the
// request completes and the process exits 0.
func TestServe(t *testing.T) {
	ns := newNetns(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte("serve test pass\n"), 0o600)
	smtp := smtptest.Start(t, false)
	cfg := filepath.Join(dir, "vpnkeys.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data = %q
company = "Example Ltd"
contact = "it@example.com"
link_ttl = "1h"
%s
`, data, smtpConfig(smtp))), 0o600)
	env := []string{"VPNKEYS_SMTP_PASSWORD=" + smtp.Password, "VPNKEYS_PASSPHRASE_FILE=" + passFile}
	cli(t, env, "--config", cfg, "init")
	cli(t, env, "--config", cfg, "server", "add", "dc1", "--remote", "127.0.0.1:11942")
	cli(t, env, "--config", cfg, "add", "alice", "--email", "alice@example.com", "--os", "linux", "--lang", "de")
	srvDir := filepath.Join(dir, "server")
	cli(t, env, "--config", cfg, "server", "files", "dc1", "--out", srvDir)
	traversable(t, srvDir)
	token := strings.TrimSpace(cli(t, env, "--config", cfg, "token", "create", "e2e"))

	cmd := exec.Command(binary(t), "--config", cfg, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing:\n%s", stderr.String())
	}
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`).FindStringSubmatch(lines.Text())
	if addr == nil {
		t.Fatalf("serve's first line: %q", lines.Text())
	}
	base := "http://" + addr[1]

	api := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := api("POST", "/api/v1/users/alice/send", `{}`); code != 200 {
		t.Fatalf("send: %d %s", code, body)
	}
	msg := smtp.Wait(t, 10*time.Second)
	raw := strings.ReplaceAll(string(msg.Data), "=\r\n", "")
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/l/l_[A-Za-z0-9_=-]+`).FindString(strings.ReplaceAll(raw, "=3D", "="))
	if link == "" || msg.To[0] != "alice@example.com" || !strings.Contains(raw, "nmcli") {
		t.Fatalf("mail to %v without a link or Linux steps:\n%s", msg.To, raw)
	}
	profile := followLink(t, link, "alice.ovpn")
	pf := filepath.Join(t.TempDir(), "alice.ovpn")
	os.WriteFile(pf, profile, 0o600)
	srv := ns.startServer(t, srvDir)
	if ok, log := ns.connect(t, pf); !ok {
		t.Fatalf("the downloaded profile did not connect:\n%s\nserver:\n%s", log, srv.Log())
	}
	resp, _ := http.PostForm(link, url.Values{"format": {"ovpn"}})
	again, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(again), "Dieser Link wurde schon benutzt") {
		t.Fatalf("second click: %d\n%s", resp.StatusCode, again)
	}

	// SIGTERM with a request in flight: its body is not complete yet.
	conn, err := net.Dial("tcp", addr[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"bob","os":"macos"}`
	fmt.Fprintf(conn, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", token, len(body), body[:5])
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("serve exited with a request in flight: %v\n%s", err, stderr.String())
	default:
	}
	fmt.Fprint(conn, body[5:])
	reply, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	if reply.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request: got %d, want 201", reply.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	for _, secret := range []string{token, smtp.Password, "serve test pass", strings.TrimPrefix(link, base+"/l/")} {
		if strings.Contains(stderr.String(), secret) {
			t.Fatalf("a secret reached serve's log: %q", secret)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
