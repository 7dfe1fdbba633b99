package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Reason is an RFC 5280 CRL reason code.
type Reason int

// The CRL reasons a revocation may give.
const (
	Unspecified          Reason = 0
	KeyCompromise        Reason = 1
	CACompromise         Reason = 2
	AffiliationChanged   Reason = 3
	Superseded           Reason = 4
	CessationOfOperation Reason = 5
	CertificateHold      Reason = 6
	PrivilegeWithdrawn   Reason = 9
)

var reasonNames = map[Reason]string{
	Unspecified:          "unspecified",
	KeyCompromise:        "keyCompromise",
	CACompromise:         "CACompromise",
	AffiliationChanged:   "affiliationChanged",
	Superseded:           "superseded",
	CessationOfOperation: "cessationOfOperation",
	CertificateHold:      "certificateHold",
	PrivilegeWithdrawn:   "privilegeWithdrawn",
}

// String gives the name openssl and easy-rsa use.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// ParseReason accepts a reason in openssl's camelCase ("keyCompromise"),
// kebab-case ("key-compromise") or any case; "" gives Unspecified.
func ParseReason(s string) (Reason, error) {
	norm := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(s))
	if norm == "" {
		return Unspecified, nil
	}
	for r, name := range reasonNames {
		if strings.ToLower(name) == norm {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: revocation reason %q: use unspecified, key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, certificate-hold or privilege-withdrawn", ErrInvalid, s)
}

// Revoked is one CRL entry.
type Revoked struct {
	Serial *big.Int
	At     time.Time
	Reason Reason
}

// CreateCRL signs a CRL with the given number listing revoked.
func (ca *CA) CreateCRL(number int64, revoked []Revoked, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	entries := make([]x509.RevocationListEntry, len(revoked))
	for i, r := range revoked {
		entries[i] = x509.RevocationListEntry{
			SerialNumber:   r.Serial,
			RevocationTime: r.At.UTC(),
			ReasonCode:     int(r.Reason),
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
		RevokedCertificateEntries: entries,
		SignatureAlgorithm:        signatureAlgorithm(ca.Key),
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing CRL: %w", err)
	}
	return der, nil
}

// CRLPEM encodes a DER CRL as "X509 CRL" PEM, the form OpenVPN's crl-verify reads.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
