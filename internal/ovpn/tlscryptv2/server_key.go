package tlscryptv2

import (
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"log/slog"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

const (
	// ServerKeySize is the size of a server key: OpenVPN's struct key, a
	// 64-byte cipher half and a 64-byte HMAC half.
	ServerKeySize = 128

	pemServerKey = "OpenVPN tls-crypt-v2 server key"
	pemClientKey = "OpenVPN tls-crypt-v2 client key"
)

// ErrInvalidKey is returned for a key that is malformed, was not made for
// this server key, or was changed since.
var ErrInvalidKey = fault.New(fault.Invalid, "invalid", "not a usable tls-crypt-v2 key")

// ServerKey is a tls-crypt-v2 server key. The zero value is no key: every
// method that needs a key refuses it.
type ServerKey struct {
	raw [ServerKeySize]byte
	set bool
}

// NewServerKey draws a fresh server key, as `openvpn --genkey
// tls-crypt-v2-server` does (all 128 bytes random).
func NewServerKey() (ServerKey, error) {
	var k ServerKey
	if _, err := rand.Read(k.raw[:]); err != nil {
		return ServerKey{}, fmt.Errorf("drawing tls-crypt-v2 server key: %w", err)
	}
	k.set = true
	return k, nil
}

// ParseServerKey reads the PEM block "OpenVPN tls-crypt-v2 server key", as
// OpenVPN writes it; text around the block (comments) is ignored.
func ParseServerKey(data []byte) (ServerKey, error) {
	body, err := decodePEM(data, pemServerKey)
	if err != nil {
		return ServerKey{}, err
	}
	if len(body) != ServerKeySize {
		return ServerKey{}, fmt.Errorf("%w: server key has %d bytes, want %d", ErrInvalidKey, len(body), ServerKeySize)
	}
	var k ServerKey
	copy(k.raw[:], body)
	k.set = true
	return k, nil
}

// MarshalPEM writes the key in OpenVPN's file format, which `tls-crypt-v2
// FILE` on the server and `openvpn --genkey tls-crypt-v2-client` read.
// The zero ServerKey marshals to nil.
func (k ServerKey) MarshalPEM() []byte {
	if !k.set {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemServerKey, Bytes: k.raw[:]})
}

// IsZero reports whether k holds no key.
func (k ServerKey) IsZero() bool { return !k.set }

// String keeps the key out of logs and messages.
func (k ServerKey) String() string { return "[redacted]" }

// GoString keeps the key out of %#v.
func (k ServerKey) GoString() string { return "tlscryptv2.ServerKey[redacted]" }

// LogValue keeps the key out of slog output.
func (k ServerKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// encKey is Ke, the AES-256-CTR key: the first 32 bytes of the cipher half.
func (k *ServerKey) encKey() []byte { return k.raw[0:32] }

// macKey is Ka, the HMAC-SHA256 key: the first 32 bytes of the HMAC half.
func (k *ServerKey) macKey() []byte { return k.raw[64:96] }

// decodePEM returns the body of the first PEM block in data, which must be
// of type typ and carry no headers.
func decodePEM(data []byte, typ string) ([]byte, error) {
	b, _ := pem.Decode(data)
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: no %q PEM block", ErrInvalidKey, typ)
	case b.Type != typ:
		return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrInvalidKey, b.Type, typ)
	case len(b.Headers) > 0:
		return nil, fmt.Errorf("%w: unexpected PEM headers in %q", ErrInvalidKey, typ)
	}
	return b.Bytes, nil
}
