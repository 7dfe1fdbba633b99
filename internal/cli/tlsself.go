package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

// selfCert serves --tls-self: a certificate from the company CA for the
// public URL's host and the listen address, issued at start and issued
// anew at two thirds of its life, so a long-running serve never presents
// an expired one. Only clients that trust the company CA accept it; for
// employees' browsers use --tls-cert/--tls-key with a publicly trusted
// certificate (README, "Admin web pages").
type selfCert struct {
	issue func() (certPEM, keyPEM []byte, err error)
	now   func() time.Time
	log   *slog.Logger

	mu       sync.Mutex
	cur      *tls.Certificate
	notAfter time.Time
	renewAt  time.Time
}

// newSelfCert issues the first certificate at once, so a CA that cannot
// issue stops serve at start.
func newSelfCert(issue func() ([]byte, []byte, error), now func() time.Time, log *slog.Logger) (*selfCert, error) {
	s := &selfCert{issue: issue, now: now, log: log}
	if err := s.renew(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *selfCert) renew() error {
	certPEM, keyPEM, err := s.issue()
	if err != nil {
		return fmt.Errorf("issuing the TLS certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("loading TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("loading TLS certificate: %w", err)
	}
	pair.Leaf = leaf
	s.cur, s.notAfter = &pair, leaf.NotAfter
	s.renewAt = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) * 2 / 3)
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (s *selfCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); !now.Before(s.renewAt) {
		if err := s.renew(); err != nil {
			if now.After(s.notAfter) {
				return nil, err
			}
			s.log.Warn("renewing the TLS certificate failed; the current one stays", "err", err, "expires", s.notAfter)
		}
	}
	return s.cur, nil
}

// selfHosts names what the certificate must carry: the public URL's host
// (what employees' links point at) and the listen address; for a wildcard
// listen address, localhost, the loopback address and the host name.
func selfHosts(listenHost, publicURL string) []string {
	var hosts []string
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if u, err := url.Parse(publicURL); err == nil {
		add(u.Hostname())
	}
	if ip := net.ParseIP(listenHost); listenHost == "" || (ip != nil && ip.IsUnspecified()) {
		add("localhost")
		add("127.0.0.1")
		if h, err := os.Hostname(); err == nil {
			add(h)
		}
	} else {
		add(listenHost)
	}
	return hosts
}
