package web

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// agentEnv is serve's agent listener on loopback, with real TLS: the
// certificate from the CA (SelfTLS) and AgentTLSConfig, as serve builds
// it, over an authority whose clock a test can move.
type agentEnv struct {
	a    *authority.Authority
	url  string
	ca   *x509.Certificate
	pool *x509.CertPool
	skew atomic.Int64 // added to the authority's clock
}

func newAgentEnv(t testing.TB) *agentEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &agentEnv{}
	now := func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	e.a = authority.New(db, authority.Options{DataDir: dir, Now: now})
	if err := e.a.Init(ctx, authority.InitRequest{Algo: pki.P256, NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"dc1", "dc2", "dc3"} {
		if _, err := e.a.AddServer(ctx, authority.ServerRequest{Name: s, Remote: "127.0.0.1:" + string(rune('1'+i)) + "194"}); err != nil {
			t.Fatal(err)
		}
	}
	caPEM, err := e.a.CACertPEM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.ca, _ = pki.ParseCert(caPEM)
	e.pool = x509.NewCertPool()
	e.pool.AddCert(e.ca)
	certPEM, keyPEM, err := e.a.SelfTLS(ctx, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := AgentTLSConfig(func() ([]byte, error) { return caPEM, nil }, func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &pair, nil })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: New(Options{Authority: e.a}).AgentHandler(), TLSConfig: conf}
	go srv.Serve(tls.NewListener(ln, conf))
	t.Cleanup(func() { srv.Close() })
	e.url = "https://" + ln.Addr().String()
	return e
}

// client trusts only the CA and presents cert, when given.
func (e *agentEnv) client(cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: e.pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: time.Minute}
}

// enroll makes a join token for server and returns it whole.
func (e *agentEnv) enroll(t testing.TB, server string) string {
	t.Helper()
	tok, err := e.a.EnrollServer(context.Background(), server)
	if err != nil {
		t.Fatalf("EnrollServer(%s): %v", server, err)
	}
	return tok.Token
}

// joined is what an agent holds after a join.
type joined struct {
	status int
	code   string
	res    agentwire.JoinResponse
	pair   *tls.Certificate
}

// join does what `vpnkeys agent join` does: a key made here, a CSR, the
// token's secret, over TLS with no client certificate; and it checks the
// listener's chain holds the CA the token's fingerprint names.
func (e *agentEnv) join(t testing.TB, token string) joined {
	t.Helper()
	fp, secret, err := agentwire.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "whatever"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(agentwire.JoinRequest{Secret: secret, CSR: csr})
	resp, err := e.client(nil).Post(e.url+agentwire.PathJoin, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	chain := resp.TLS.PeerCertificates
	if !agentwire.SameFingerprint(agentwire.Fingerprint(chain[len(chain)-1].Raw), fp) {
		t.Fatal("the listener's chain does not end with the CA the token's fingerprint names")
	}
	b, _ := io.ReadAll(resp.Body)
	j := joined{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		var ae apiError
		json.Unmarshal(b, &ae)
		j.code = ae.Error.Code
		return j
	}
	if err := json.Unmarshal(b, &j.res); err != nil {
		t.Fatalf("join response %s: %v", b, err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	pair, err := tls.X509KeyPair(j.res.Cert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatalf("the joined certificate does not go with the agent's key: %v", err)
	}
	j.pair = &pair
	return j
}

// get asks for server's state with cert and returns the status.
func (e *agentEnv) get(t *testing.T, cert *tls.Certificate, server string) int {
	t.Helper()
	resp, err := e.client(cert).Get(e.url + agentwire.StatePath(server) + "?since=0&wait=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// audits counts the audit events of action whose detail has the reason.
func (e *agentEnv) audits(t *testing.T, action, reason string) int {
	t.Helper()
	evs, err := e.a.Audit(context.Background(), authority.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		var d struct{ Reason string }
		if json.Unmarshal(ev.Detail, &d) == nil && (reason == "" || d.Reason == reason) {
			n++
		}
	}
	return n
}

// refused checks that do caused exactly one more audit event of action
// with reason.
func (e *agentEnv) refused(t *testing.T, action, reason string, do func()) {
	t.Helper()
	before := e.audits(t, action, reason)
	do()
	if got := e.audits(t, action, reason) - before; got != 1 {
		t.Errorf("audit events %s (reason %q): got %d more, want 1", action, reason, got)
	}
}

// userCert is a VPN user's certificate and key, from their bundle.
func (e *agentEnv) userCert(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	res, err := e.a.AddUsers(context.Background(), []authority.UserRequest{{Name: name}}, authority.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(res[0].Dir, name, name+".crt"), filepath.Join(res[0].Dir, name, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return &pair
}

// admitted tells whether agentOnly let a request through: the state
// handler behind it may answer anything but a refusal.
func admitted(status int) bool {
	return status != http.StatusUnauthorized && status != http.StatusForbidden
}
