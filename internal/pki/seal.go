package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
)

// sealVersion prefixes every sealed blob so the scheme can change later.
const sealVersion = 1

// ErrUnseal is returned when a sealed blob does not open: wrong CA, damaged
// data, or a blob moved to another record.
var ErrUnseal = errors.New("sealed key does not open with this CA")

// Sealer encrypts the secrets vpnkeys keeps besides the CA key (server and
// user private keys, the tls-crypt key) with AES-256-GCM. Its key is derived
// with HKDF-SHA256 from the CA private key, so it exists only while the CA
// is unlocked and needs no passphrase derivation of its own.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from the CA.
func NewSealer(ca *CA) (*Sealer, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	key, err := hkdf.Key(sha256.New, der, nil, "vpnkeys seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving seal key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain, binding it to label (for example "user-key:alice:SERIAL")
// so a blob copied to another record does not open there.
func (s *Sealer) Seal(plain []byte, label string) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("drawing nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plain, []byte(label)), nil
}

// Open decrypts a blob made by Seal with the same label.
func (s *Sealer) Open(blob []byte, label string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(blob) < 1+n+s.aead.Overhead() || blob[0] != sealVersion {
		return nil, ErrUnseal
	}
	plain, err := s.aead.Open(nil, blob[1:1+n], blob[1+n:], []byte(label))
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}
