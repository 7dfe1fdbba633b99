package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"
)

// Renew makes a new certificate for the CA's own key: the same subject
// (byte for byte, so an imported CA's full name stays), the same subject
// key identifier, key usage and path length, a new serial and a validity
// of days from now. Everything the key signed, before or after, verifies
// under both the old and the new certificate: an OpenVPN peer that trusts
// either keeps admitting every leaf, and the sealed keys (NewSealer
// derives from the key) stay readable. The CA itself is not changed.
func (ca *CA) Renew(days int, now time.Time) (*x509.Certificate, error) {
	old := ca.Cert
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	ski := old.SubjectKeyId
	if len(ski) == 0 {
		if ski, err = subjectKeyID(ca.Key.Public()); err != nil {
			return nil, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            old.RawSubject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(0, 0, days),
		KeyUsage:              old.KeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            old.MaxPathLen,
		MaxPathLenZero:        old.MaxPathLenZero,
		SubjectKeyId:          ski,
		SignatureAlgorithm:    signatureAlgorithm(ca.Key),
	}
	if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ca.Key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing renewed CA certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing renewed CA certificate: %w", err)
	}
	return c, nil
}

// SameCA tells whether next is a renewal of cur (Renew's result): the
// same subject, the same public key and the same key identifier, and
// self-signed by that key. Such a certificate may replace cur without
// anything signed by cur's key changing.
func SameCA(cur, next *x509.Certificate) error {
	switch {
	case !bytes.Equal(cur.RawSubject, next.RawSubject):
		return fmt.Errorf("%w: the new CA certificate names another subject", ErrInvalid)
	case !bytes.Equal(cur.RawSubjectPublicKeyInfo, next.RawSubjectPublicKeyInfo):
		return fmt.Errorf("%w: the new CA certificate holds another key", ErrInvalid)
	case !bytes.Equal(cur.SubjectKeyId, next.SubjectKeyId):
		return fmt.Errorf("%w: the new CA certificate has another key identifier", ErrInvalid)
	}
	if err := next.CheckSignatureFrom(next); err != nil {
		return fmt.Errorf("%w: the new CA certificate is not self-signed: %w", ErrInvalid, err)
	}
	return nil
}
