package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/youmark/pkcs8"
)

// KDFIterations is the PBKDF2-HMAC-SHA256 iteration count used for the
// encrypted CA key: 29 times OpenSSL 3's default of 2048 for PKCS#8 (what
// `openssl pkcs8 -topk8 -v2 aes-256-cbc` and easy-rsa 3.1 write), and about
// 10 ms on one core, which keeps a single `vpnkeys add` five times faster
// than easy-rsa's. The count is stored in each key file, so raising it
// later keeps older keys readable.
const KDFIterations = 60_000

// MarshalKey encodes k as an unencrypted PKCS#8 PEM ("PRIVATE KEY"), the
// form written into bundles and server folders for OpenVPN to read.
func MarshalKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncryptKey encodes k as an encrypted PKCS#8 PEM ("ENCRYPTED PRIVATE KEY",
// PBES2: PBKDF2-HMAC-SHA256 with KDFIterations and a 16-byte salt,
// AES-256-CBC), which `openssl pkey` and easy-rsa open with the passphrase.
// An empty passphrase gives the plain form, as easy-rsa's nopass.
func EncryptKey(k crypto.Signer, pass Passphrase) ([]byte, error) {
	if len(pass) == 0 {
		return MarshalKey(k)
	}
	der, err := pkcs8.MarshalPrivateKey(k, pass, &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize:       16,
			IterationCount: KDFIterations,
			HMACHash:       crypto.SHA256,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// IsEncrypted reports whether a PEM key needs a passphrase.
func IsEncrypted(pemBytes []byte) bool {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return false
	}
	//lint:ignore SA1019 legacy PEM encryption is read, never written
	return b.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(b)
}

// ParseKey opens a PEM private key: PKCS#8 (plain or encrypted), PKCS#1 RSA,
// SEC1 EC, or legacy "Proc-Type: 4,ENCRYPTED" PEM. pass is used only when the
// key is encrypted; a wrong one gives ErrWrongPassphrase.
func ParseKey(pemBytes []byte, pass Passphrase) (crypto.Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM private key found", ErrInvalid)
	}
	der := b.Bytes
	switch {
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if len(pass) == 0 {
			return nil, fmt.Errorf("%w: key is encrypted and no passphrase was given", ErrWrongPassphrase)
		}
		k, err := pkcs8.ParsePKCS8PrivateKey(der, pass)
		if err != nil {
			return nil, wrongPassphraseOr(err)
		}
		return asSigner(k)
	//lint:ignore SA1019 legacy PEM encryption is read, never written
	case x509.IsEncryptedPEMBlock(b):
		if len(pass) == 0 {
			return nil, fmt.Errorf("%w: key is encrypted and no passphrase was given", ErrWrongPassphrase)
		}
		//lint:ignore SA1019 legacy keys from old easy-rsa PKIs are read, never written
		plain, err := x509.DecryptPEMBlock(b, pass)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWrongPassphrase, err)
		}
		der = plain
	}
	return parseDER(der)
}

// wrongPassphraseOr reports a failed PKCS#8 decryption as a wrong
// passphrase: the outer structure parsed, so what failed is the decryption
// (pkcs8 sees it as bad padding or bad ASN.1 inside).
func wrongPassphraseOr(err error) error {
	return fmt.Errorf("%w (%v)", ErrWrongPassphrase, err)
}

func parseDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return asSigner(k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unsupported private key encoding", ErrInvalid)
}

func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: unsupported private key type %T", ErrInvalid, k)
}

// MatchesCert reports ErrKeyMismatch unless k is the private half of c.
func MatchesCert(k crypto.Signer, c *x509.Certificate) error {
	a, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return fmt.Errorf("encoding public key: %w", err)
	}
	b, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	if err != nil {
		return fmt.Errorf("encoding public key: %w", err)
	}
	if !bytes.Equal(a, b) {
		return ErrKeyMismatch
	}
	return nil
}

// Fingerprint is the SHA-256 of a certificate's DER, hex-encoded.
func Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%X", s[:])
}

var errNoCert = errors.New("no PEM certificate found")

// ParseCert decodes the first PEM certificate in b.
func ParseCert(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, errNoCert)
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: parsing certificate: %v", ErrInvalid, err)
			}
			return c, nil
		}
	}
}

// CertPEM encodes a certificate as PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
