package pki

import "github.com/vpnkeys/vpnkeys/internal/fault"

// Sentinel errors of the package.
var (
	// ErrInvalid wraps bad input (an unknown algorithm, a malformed PEM).
	ErrInvalid = fault.New(fault.Invalid, "invalid", "invalid input")
	// ErrWrongPassphrase is returned when a key does not decrypt.
	ErrWrongPassphrase = fault.New(fault.Unauthorized, "wrong_passphrase", "wrong CA passphrase")
	// ErrKeyMismatch is returned when a key does not belong to a certificate.
	ErrKeyMismatch = fault.New(fault.Invalid, "invalid", "private key does not match certificate")
)
