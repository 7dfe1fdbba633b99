package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Default lifetimes, as easy-rsa's: 10 years for the CA, 825 days for leaf
// certificates (the longest that Apple's TLS stack accepts).
const (
	DefaultCADays   = 3650
	DefaultLeafDays = 825
)

// backdate absorbs clock skew between vpnkeys and the OpenVPN peers.
const backdate = 5 * time.Minute

// NewSerial returns a random positive 128-bit serial number.
func NewSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("drawing serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// SerialHex formats a serial as uppercase hex of even length, as openssl
// and easy-rsa's index.txt write it.
func SerialHex(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// ParseSerialHex parses SerialHex's format.
func ParseSerialHex(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("%w: serial %q is not a positive hex number", ErrInvalid, s)
	}
	return n, nil
}

// CA is an unlocked certificate authority: its certificate and signer.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA makes a self-signed CA certificate for key.
func NewCA(key crypto.Signer, commonName string, days int, now time.Time) (*CA, error) {
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(0, 0, days),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
		SignatureAlgorithm:    signatureAlgorithm(key),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CA certificate: %w", err)
	}
	return &CA{Cert: c, Key: key}, nil
}

// Role says what a leaf certificate is for.
type Role int

// The leaf roles.
const (
	Client Role = iota
	Server
	// Agent certificates identify a vpnkeys agent to the control plane.
	// They carry the AgentPolicy and no extended key usage, so OpenVPN's
	// `remote-cert-tls client` refuses one as a VPN user, and a VPN
	// user's certificate (no AgentPolicy) never passes as an agent.
	Agent
)

// AgentPolicy marks agent certificates (a UUID OID: 2.25.N).
var AgentPolicy = mustOID("2.25.301023879721855415786486741801135134386")

func mustOID(s string) x509.OID {
	o, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// IsAgent tells whether c carries the AgentPolicy and no extended key
// usage, as only Issue with Role Agent makes them.
func IsAgent(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		return false
	}
	for _, p := range c.Policies {
		if p.Equal(AgentPolicy) {
			return true
		}
	}
	return false
}

// Leaf describes a certificate to issue.
type Leaf struct {
	Role       Role
	CommonName string
	PublicKey  crypto.PublicKey
	Serial     *big.Int // nil draws a new one
	Days       int
	Now        time.Time
	// Hosts are extra DNS names or IP addresses of a server certificate.
	Hosts []string
}

// Issue signs a client or server certificate. Client certificates carry
// extKeyUsage clientAuth, server ones serverAuth and the CN as a DNS name,
// each with the key usage OpenVPN's `remote-cert-tls` checks for.
func (ca *CA) Issue(l Leaf) (*x509.Certificate, error) {
	serial := l.Serial
	if serial == nil {
		var err error
		if serial, err = NewSerial(); err != nil {
			return nil, err
		}
	}
	ski, err := subjectKeyID(l.PublicKey)
	if err != nil {
		return nil, err
	}
	days := l.Days
	if days <= 0 {
		days = DefaultLeafDays
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: l.CommonName},
		NotBefore:             l.Now.Add(-backdate),
		NotAfter:              l.Now.AddDate(0, 0, days),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		AuthorityKeyId:        ca.Cert.SubjectKeyId,
		SignatureAlgorithm:    signatureAlgorithm(ca.Key),
	}
	if _, ok := l.PublicKey.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	switch l.Role {
	case Server:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{l.CommonName}
		for _, h := range l.Hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else if h != l.CommonName {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	case Agent:
		tmpl.Policies = []x509.OID{AgentPolicy}
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, l.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate for %s: %w", l.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// subjectKeyID is the RFC 5280 method 1 key identifier (SHA-1 of the
// subjectPublicKey bits), as openssl computes it.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	var spki struct {
		Algorithm        pkix.AlgorithmIdentifier
		SubjectPublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("decoding public key: %w", err)
	}
	sum := sha1.Sum(spki.SubjectPublicKey.Bytes)
	return sum[:], nil
}

// Verify checks that c was signed by the CA and is a leaf certificate.
func (ca *CA) Verify(c *x509.Certificate) error {
	if err := c.CheckSignatureFrom(ca.Cert); err != nil {
		return fmt.Errorf("certificate %s not signed by this CA: %w", c.Subject.CommonName, err)
	}
	return nil
}
