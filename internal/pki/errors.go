package pki

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid wraps bad input (an unknown algorithm, a malformed PEM).
	ErrInvalid = errors.New("invalid input")
	// ErrWrongPassphrase is returned when a key does not decrypt.
	ErrWrongPassphrase = errors.New("wrong CA passphrase")
	// ErrKeyMismatch is returned when a key does not belong to a certificate.
	ErrKeyMismatch = errors.New("private key does not match certificate")
)
