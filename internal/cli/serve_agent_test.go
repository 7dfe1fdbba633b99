package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// lockedBuffer is serve's output, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var agentAddr = regexp.MustCompile(`serving agents on https://(\S+)`)

// TestServeAgentListen: serve --agent-listen runs a second, TLS listener
// whose certificate chains to the CA the join token pins and names
// 127.0.0.1; an agent joins with a token of `server enroll` and its
// certificate then passes for its own server; SIGTERM-like cancellation
// stops both listeners.
func TestServeAgentListen(t *testing.T) {
	data, pf := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"--data", data, "--passphrase-file", pf, "serve", "--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0"},
			Stdio{In: strings.NewReader(""), Out: out, Err: out})
	}()
	var addr string
	for deadline := time.Now().Add(time.Minute); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := agentAddr.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d:\n%s", code, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never served agents:\n%s", out)
		}
	}
	r := run(t, nil, "--data", data, "server", "enroll", "dc1")
	fp, secret, err := agentwire.ParseToken(strings.TrimSpace(r.out))
	if err != nil {
		t.Fatalf("server enroll: %+v", r)
	}
	cert := agentJoin(t, addr, fp, secret)
	conf := &tls.Config{RootCAs: poolOf(t, cert.ca), Certificates: []tls.Certificate{cert.pair}}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	resp, err := c.Get("https://" + addr + agentwire.StatePath("dc1") + "?since=0&wait=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		t.Errorf("dc1's agent on dc1's state: got %d, want it admitted", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve after cancel: exit %d, want 0\n%s", code, out)
	}
}

type agentCert struct {
	pair tls.Certificate
	ca   []byte
}

// agentJoin joins as `vpnkeys agent join` does: it accepts the listener
// only if its chain ends with the CA of fingerprint fp and its certificate
// verifies for the address's host under that CA.
func agentJoin(t *testing.T, addr string, fp []byte, secret string) agentCert {
	t.Helper()
	var ca *x509.Certificate
	conf := &tls.Config{InsecureSkipVerify: true, VerifyConnection: func(cs tls.ConnectionState) error {
		chain := cs.PeerCertificates
		ca = chain[len(chain)-1]
		if !agentwire.SameFingerprint(agentwire.Fingerprint(ca.Raw), fp) {
			t.Error("the listener's chain does not end with the token's CA")
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"})
		return err
	}}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	body, _ := json.Marshal(agentwire.JoinRequest{Secret: secret, CSR: csr})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	resp, err := c.Post("https://"+addr+agentwire.PathJoin, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res agentwire.JoinResponse
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK || res.Server != "dc1" {
		t.Fatalf("join: got %d %+v %v", resp.StatusCode, res, err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	pair, err := tls.X509KeyPair(res.Cert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
	if err != nil {
		t.Fatal(err)
	}
	return agentCert{pair: pair, ca: res.CA}
}

func poolOf(t *testing.T, caPEM []byte) *x509.CertPool {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in the join response")
	}
	return p
}

// TestServeAgentFlags: a bad --agent-listen or a stray --agent-host exits
// 2 before anything is opened; the listener's default names cover the
// listen host and loopback.
func TestServeAgentFlags(t *testing.T) {
	data, pf := setup(t)
	for name, args := range map[string][]string{
		"fail/bad address": {"serve", "--agent-listen", "8444"},
		"fail/host alone":  {"serve", "--agent-host", "vpn.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, nil, append([]string{"--data", data, "--passphrase-file", pf}, args...)...)
			if r.code != 2 || !strings.Contains(r.err, "--agent-") {
				t.Errorf("%v: got %d %q, want exit 2 naming the flag", args, r.code, r.err)
			}
		})
	}
	t.Run("ok/default names", func(t *testing.T) {
		got := agentHosts("0.0.0.0", "https://vpn.example.com:8443", nil)
		for _, want := range []string{"vpn.example.com", "localhost", "127.0.0.1"} {
			if !slices.Contains(got, want) || slices.Contains(got, "0.0.0.0") {
				t.Errorf("agentHosts: got %v, want %s and no wildcard", got, want)
			}
		}
		if got := agentHosts("192.0.2.7", "", []string{"control.example.com"}); !slices.Equal(got, []string{"control.example.com"}) {
			t.Errorf("agentHosts with --agent-host: got %v, want only it", got)
		}
	})
}
