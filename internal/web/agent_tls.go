package web

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// AgentTLSConfig is the agent listener's TLS configuration: its own
// certificate from getCert (issued from the CA, so an agent that pinned
// the CA verifies it), and client certificates verified against the CA
// when one is given. A join comes without one; the agent routes require
// one (agentOnly), and the authority then checks it is an agent's.
func AgentTLSConfig(caPEM []byte, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("reading CA certificate: no certificate in PEM")
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      pool,
		GetCertificate: getCert,
	}, nil
}
