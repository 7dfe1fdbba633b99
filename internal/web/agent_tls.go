package web

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"time"
)

// trustTTL is how long the agent listener keeps the CA certificates it
// read before reading them again: a CA rollover started or finished by
// another process reaches it within this time, without a restart.
const trustTTL = time.Minute

// AgentTLSConfig is the agent listener's TLS configuration: its own
// certificate from getCert (issued from the CA, so an agent that pinned
// the CA verifies it), and client certificates verified against the CA
// certificates trust returns (both of them during a CA rollover) when one
// is given. A join comes without one; the agent routes require one
// (agentOnly), and the authority then checks it is an agent's. trust is
// read at start, then again at most once a trustTTL.
func AgentTLSConfig(trust func() ([]byte, error), getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) (*tls.Config, error) {
	tc := &trustCache{read: trust, now: time.Now}
	pool, err := tc.pool()
	if err != nil {
		return nil, err
	}
	base := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      pool,
		GetCertificate: getCert,
	}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		pool, err := tc.pool()
		if err != nil {
			return nil, err
		}
		c := base.Clone()
		c.ClientCAs, c.GetConfigForClient = pool, nil
		return c, nil
	}
	return base, nil
}

// trustCache is the pool of CA certificates, read again once it is
// trustTTL old; a failed read keeps the last good pool.
type trustCache struct {
	read func() ([]byte, error)
	now  func() time.Time

	mu   sync.Mutex
	pem  []byte
	p    *x509.CertPool
	when time.Time
}

func (t *trustCache) pool() (*x509.CertPool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p != nil && t.now().Sub(t.when) < trustTTL {
		return t.p, nil
	}
	pemBytes, err := t.read()
	if err == nil && !bytes.Equal(pemBytes, t.pem) {
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(pemBytes) {
			err = errors.New("reading CA certificate: no certificate in PEM")
		} else {
			t.pem, t.p = pemBytes, p
		}
	}
	if err != nil && t.p == nil {
		return nil, err
	}
	t.when = t.now()
	return t.p, nil
}
