package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// TestReconnect: the control plane goes away, a new state is made while
// it is away, and the agent, retrying with backoff, applies it once the
// control plane is back. Also: Run ends when its context does.
func TestReconnect(t *testing.T) {
	ca := newTestCA(t, "reconnect CA")
	cp := newControlPlane(t, ca, ca, "dc1")
	cp.set(simpleState("port 1194\n", "CRL-1"))
	root := t.TempDir()
	state, dir := filepath.Join(root, "state"), filepath.Join(root, "server")
	if _, err := Join(context.Background(), cp.url(), ca.token(), state, nil); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	metricsAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{StateDir: state, Dir: dir, Wait: 2 * time.Second, SweepInterval: 100 * time.Millisecond,
			ReportInterval: 200 * time.Millisecond, MetricsListen: metricsAddr, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	}()
	conf := filepath.Join(dir, "server.conf")
	if !waitContent(conf, "port 1194\n") {
		t.Fatalf("first state not applied:\n%s", logs.String())
	}
	var got string
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		if got = get(t, "http://"+metricsAddr+"/metrics"); strings.Contains(got, "vpnkeys_agent_applied_version 1\n") {
			break
		}
	}
	if !strings.Contains(got, "vpnkeys_agent_applied_version 1\n") || strings.Contains(got, "vpnkeys_agent_sync_age_seconds -1") {
		t.Errorf("metrics: got\n%s\nwant version 1 and a sync age", got)
	}
	// That server.conf names no management socket: reported, not fatal.
	cp.waitReport(t, "the missing management socket", func(r agentwire.Report) bool {
		return !r.Management && r.Version == 1 && strings.Contains(r.Error, "no management socket")
	})
	cp.down()
	if !waitLog(logs, "control plane: retrying") {
		t.Fatalf("no retry logged:\n%s", logs.String())
	}
	cp.set(simpleState("port 1195\n", "CRL-2"))
	cp.up(t)
	if !waitContent(conf, "port 1195\n") {
		t.Fatalf("the state made while the control plane was away was not applied:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil when its context ends", err)
	}
}

// waitContent waits (20 s at most) for path to hold want.
func waitContent(path, want string) bool {
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && string(b) == want {
			return true
		}
	}
	return false
}

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
