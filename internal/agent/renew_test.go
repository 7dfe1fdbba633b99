package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/web"
)

// realServe is serve's agent listener, in process, over a real authority
// on SQLite: the control plane the renewal test needs, since only it
// supersedes and refuses certificates as production does. Both its clock
// and the agent's are now() (skew moves them); the listener verifies
// client certificates at that time too. It records the serial of every
// client certificate a state request came with.
type realServe struct {
	a    *authority.Authority
	url  string
	skew atomic.Int64

	mu      sync.Mutex
	serials []string
}

func (s *realServe) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }

func (s *realServe) stateSerials() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.serials)
}

func newRealServe(t *testing.T) *realServe {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &realServe{}
	s.a = authority.New(db, authority.Options{DataDir: dir, Now: s.now, AgentRunDir: filepath.Join(dir, "run")})
	if err := s.a.Init(ctx, authority.InitRequest{Algo: pki.P256, NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "127.0.0.1:1194"}); err != nil {
		t.Fatal(err)
	}
	caPEM, err := s.a.CACertPEM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := s.a.SelfTLS(ctx, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := web.AgentTLSConfig(func() ([]byte, error) { return caPEM, nil }, func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &pair, nil })
	if err != nil {
		t.Fatal(err)
	}
	conf.Time = s.now
	h := web.New(web.Options{Authority: s.a}).AgentHandler()
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/state") && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			s.mu.Lock()
			s.serials = append(s.serials, pki.SerialHex(r.TLS.PeerCertificates[0].SerialNumber))
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: record, TLSConfig: conf}
	go srv.Serve(tls.NewListener(ln, conf))
	t.Cleanup(func() { srv.Close() })
	s.url = "https://" + ln.Addr().String()
	return s
}

// runAgent runs the agent until the returned stop is called.
func runAgent(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: got %v, want nil when its context ends", err)
		}
	}
}

// waitFor polls cond for 20 s at most.
func waitFor(cond func() bool) bool {
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// TestRenewAgentCert: with the clock moved to within 30 days of its
// certificate's end, the running agent renews it: agent.key (0600) and
// agent.crt hold a new pair, no temporary file is left, the control plane
// superseded the old certificate, and the next state request comes with
// the new one. Restarted from its state folder, the agent works with the
// new pair and does not renew again.
func TestRenewAgentCert(t *testing.T) {
	cp := newRealServe(t)
	root := t.TempDir()
	state, dir := filepath.Join(root, "state"), filepath.Join(root, "server")
	tok, err := cp.a.EnrollServer(context.Background(), "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Join(context.Background(), cp.url, tok.Token, state, nil); err != nil {
		t.Fatal(err)
	}
	oldCert, oldKey := readFile(t, state, CertFile), readFile(t, state, KeyFile)
	old, err := parseCertPEM(oldCert)
	if err != nil {
		t.Fatal(err)
	}
	oldSerial := pki.SerialHex(old.SerialNumber)
	cp.skew.Store(int64(time.Until(old.NotAfter) - 10*24*time.Hour))
	logs := &lockedBuffer{}
	cfg := Config{StateDir: state, Dir: dir, Wait: time.Second, SweepInterval: 100 * time.Millisecond,
		ReportInterval: 100 * time.Millisecond, Now: cp.now, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	stop := runAgent(t, cfg)
	if !waitFor(func() bool { return !bytes.Equal(readFile(t, state, CertFile), oldCert) }) {
		stop()
		t.Fatalf("agent.crt not renewed:\n%s", logs.String())
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(state, CertFile), filepath.Join(state, KeyFile))
	if err != nil {
		t.Fatalf("the renewed agent.crt and agent.key: got %v, want a matching pair", err)
	}
	newSerial := pki.SerialHex(pair.Leaf.SerialNumber)
	if bytes.Equal(readFile(t, state, KeyFile), oldKey) || newSerial == oldSerial {
		t.Errorf("renewal: got the same key or serial %s, want a new key and serial", newSerial)
	}
	if fi, _ := os.Stat(filepath.Join(state, KeyFile)); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("agent.key mode: got %v, want 0600", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(state, "*.new")); len(left) != 0 {
		t.Errorf("files left by the renewal: got %v, want none", left)
	}
	if !waitFor(func() bool { return slices.Contains(cp.stateSerials(), newSerial) }) {
		t.Errorf("state requests came with %v, want one with the new serial %s", cp.stateSerials(), newSerial)
	}
	stop()
	list, err := cp.a.Expiring(context.Background(), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list {
		if v.Serial == oldSerial {
			t.Errorf("the old agent certificate is still active: %+v", v)
		}
	}
	if evs, err := cp.a.Audit(context.Background(), authority.AuditFilter{Action: authority.ActionAgentRenew}); err != nil || len(evs) != 1 {
		t.Errorf("agent.renew audit events: got %d (%v), want 1", len(evs), err)
	}

	// Restarted from its state folder: the new pair, no second renewal.
	asked := len(cp.stateSerials())
	stop = runAgent(t, cfg)
	defer stop()
	if !waitFor(func() bool { return len(cp.stateSerials()) > asked+1 }) {
		t.Fatalf("the restarted agent asked for no state:\n%s", logs.String())
	}
	for _, s := range cp.stateSerials()[asked:] {
		if s != newSerial {
			t.Errorf("the restarted agent asked with serial %s, want %s", s, newSerial)
		}
	}
	if got := pki.SerialHex(mustLeaf(t, readFile(t, state, CertFile)).SerialNumber); got != newSerial {
		t.Errorf("after the restart agent.crt holds %s, want %s (renewed once)", got, newSerial)
	}
}

// TestRenewLostAnswer: the control plane renewed the agent's certificate
// but the answer never arrived (the old one is revoked by then); the new
// key was saved before it was sent, so the agent asks again with it, gets
// the same certificate and goes on with it.
func TestRenewLostAnswer(t *testing.T) {
	cp := newRealServe(t)
	ctx := context.Background()
	root := t.TempDir()
	state, dir := filepath.Join(root, "state"), filepath.Join(root, "server")
	tok, err := cp.a.EnrollServer(ctx, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Join(ctx, cp.url, tok.Token, state, nil); err != nil {
		t.Fatal(err)
	}
	old := mustLeaf(t, readFile(t, state, CertFile))
	key, _, err := pendingKey(state) // what an attempt saves before it sends
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	cp.skew.Store(int64(time.Until(old.NotAfter) - 10*24*time.Hour)) // due, and the renewal made then
	res, err := cp.a.RenewAgent(ctx, old, "dc1", "127.0.0.1", csr)   // the answer that got lost
	if err != nil {
		t.Fatal(err)
	}
	want := pki.SerialHex(mustLeaf(t, res.Cert).SerialNumber)
	logs := &lockedBuffer{}
	stop := runAgent(t, Config{StateDir: state, Dir: dir, Wait: time.Second, SweepInterval: 100 * time.Millisecond,
		ReportInterval: 100 * time.Millisecond, Now: cp.now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	defer stop()
	if !waitFor(func() bool { return slices.Contains(cp.stateSerials(), want) }) {
		t.Fatalf("state requests came with %v, want one with the renewed serial %s:\n%s", cp.stateSerials(), want, logs.String())
	}
	if got := pki.SerialHex(mustLeaf(t, readFile(t, state, CertFile)).SerialNumber); got != want {
		t.Errorf("agent.crt: got serial %s, want %s", got, want)
	}
}

// TestRenewFailureReported: a control plane that refuses the renewal
// leaves the pair as it was; the agent retries with backoff and its report
// says why.
func TestRenewFailureReported(t *testing.T) {
	ca := newTestCA(t, "renew CA")
	cp := newControlPlane(t, ca, ca, "dc1")
	cp.set(simpleState("port 1194\n", "CRL-1"))
	root := t.TempDir()
	state, dir := filepath.Join(root, "state"), filepath.Join(root, "server")
	if _, err := Join(context.Background(), cp.url(), ca.token(), state, nil); err != nil {
		t.Fatal(err)
	}
	oldCert := readFile(t, state, CertFile)
	late := func() time.Time { return time.Now().Add(23 * time.Hour) } // the stand-in's certificates last a day
	stop := runAgent(t, Config{StateDir: state, Dir: dir, Wait: time.Second, SweepInterval: 100 * time.Millisecond,
		ReportInterval: 100 * time.Millisecond, Now: late, renewRetry: 50 * time.Millisecond})
	defer stop()
	cp.waitReport(t, "the renewal's error", func(r agentwire.Report) bool {
		return strings.Contains(r.Error, "renewing") && strings.Contains(r.Error, "renewals paused")
	})
	if !waitFor(func() bool { return cp.renewCount() >= 2 }) {
		t.Errorf("renewal attempts: got %d, want a retry", cp.renewCount())
	}
	if !bytes.Equal(readFile(t, state, CertFile), oldCert) {
		t.Error("agent.crt changed though the renewal was refused")
	}
}

// renew is the stand-in's renewal: always refused.
func (cp *controlPlane) renew(w http.ResponseWriter, r *http.Request) {
	if !cp.agentOK(w, r) {
		return
	}
	cp.mu.Lock()
	cp.renews++
	cp.mu.Unlock()
	apiError(w, http.StatusServiceUnavailable, "renewals paused")
}

func (cp *controlPlane) renewCount() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.renews
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLeaf(t *testing.T, pemText []byte) *x509.Certificate {
	t.Helper()
	c, err := parseCertPEM(pemText)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
