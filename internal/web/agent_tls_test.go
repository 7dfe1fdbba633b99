package web

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestAgentTLSTrustFollows: the agent listener reads the CA certificates
// again once trustTTL has passed, so a rollover started or finished by
// another process reaches it without a restart of serve; a failed read
// keeps the last good pool, and a first read that fails is an error.
func TestAgentTLSTrustFollows(t *testing.T) {
	old, next := testCAPEM(t, "old"), testCAPEM(t, "next")
	current, fail := old, false
	now := time.Unix(1_800_000_000, 0)
	tc := &trustCache{read: func() ([]byte, error) {
		if fail {
			return nil, errors.New("database away")
		}
		return current, nil
	}, now: func() time.Time { return now }}
	want := func(name string, pemBytes []byte) {
		t.Helper()
		p, err := tc.pool()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w := x509.NewCertPool()
		w.AppendCertsFromPEM(pemBytes)
		if !p.Equal(w) {
			t.Fatalf("%s: got another pool than the one wanted", name)
		}
	}
	want("ok/first", old)
	current = append(append([]byte{}, old...), next...)
	now = now.Add(trustTTL - time.Second)
	want("ok/cached", old)
	now = now.Add(2 * time.Second)
	want("ok/rollover-started", current)
	fail = true
	now = now.Add(trustTTL)
	want("ok/read-failed-keeps-last", current)

	if _, err := AgentTLSConfig(func() ([]byte, error) { return []byte("no pem"), nil }, nil); err == nil {
		t.Fatal("fail/no-certificate: got nil, want an error")
	}
	conf, err := AgentTLSConfig(func() ([]byte, error) { return next, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := conf.GetConfigForClient(&tls.ClientHelloInfo{})
	if err != nil || c.ClientCAs == nil || c.GetConfigForClient != nil || c.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Fatalf("per-handshake config: got %+v %v", c, err)
	}
}

func testCAPEM(t *testing.T, name string) []byte {
	t.Helper()
	key, err := pki.GenerateKey(pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA(key, name, 10, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return pki.CertPEM(ca.Cert)
}
