package tlscryptv2

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// MetadataType is the first byte of a client key's metadata.
type MetadataType byte

// The metadata types OpenVPN defines.
const (
	// MetadataUser is data of the key maker's choosing; vpnkeys puts the
	// certificate serial there (SerialMetadata).
	MetadataUser MetadataType = 0x00
	// MetadataTimestamp is a 64-bit big-endian Unix time, which `openvpn
	// --genkey tls-crypt-v2-client` writes when given no metadata and
	// `--tls-crypt-v2-max-age` checks.
	MetadataTimestamp MetadataType = 0x01
)

// MaxMetadataLen is the most data a client key's metadata can carry
// after its type byte (OpenVPN's TLS_CRYPT_V2_MAX_METADATA_LEN - 1).
const MaxMetadataLen = maxWKcSize - tagSize - ClientKeySize - lenSize - 1

// serialPrefix starts vpnkeys' user metadata.
const serialPrefix = "serial="

// maxSerialHex bounds a serial at 20 bytes, RFC 5280's limit.
const maxSerialHex = 40

// ErrMetadata is returned for metadata that is too long, of an unknown
// type, or does not carry a certificate serial.
var ErrMetadata = fault.New(fault.Invalid, "invalid", "invalid tls-crypt-v2 metadata")

// Metadata is what a client key carries for the server: a type and data.
type Metadata struct {
	Type MetadataType
	Data []byte
}

// Validate checks that m can be wrapped: a known type, at most
// MaxMetadataLen bytes, and 8 bytes for a timestamp.
func (m Metadata) Validate() error {
	switch {
	case len(m.Data) > MaxMetadataLen:
		return fmt.Errorf("%w: %d bytes of data, at most %d", ErrMetadata, len(m.Data), MaxMetadataLen)
	case m.Type == MetadataTimestamp && len(m.Data) != 8:
		return fmt.Errorf("%w: a timestamp has 8 bytes, got %d", ErrMetadata, len(m.Data))
	case m.Type != MetadataUser && m.Type != MetadataTimestamp:
		return fmt.Errorf("%w: unknown type %d", ErrMetadata, m.Type)
	}
	return nil
}

// bytes is M as wrapped: the type byte, then the data.
func (m Metadata) bytes() []byte {
	return append([]byte{byte(m.Type)}, m.Data...)
}

// TimestampMetadata is the metadata `openvpn --genkey` writes by default:
// t as a Unix time.
func TimestampMetadata(t time.Time) Metadata {
	return Metadata{Type: MetadataTimestamp, Data: binary.BigEndian.AppendUint64(nil, uint64(t.Unix()))}
}

// Timestamp reads a MetadataTimestamp's time.
func (m Metadata) Timestamp() (time.Time, error) {
	if m.Type != MetadataTimestamp || len(m.Data) != 8 {
		return time.Time{}, fmt.Errorf("%w: not a timestamp", ErrMetadata)
	}
	return time.Unix(int64(binary.BigEndian.Uint64(m.Data)), 0), nil
}

// SerialMetadata is vpnkeys' metadata for a client key: user data
// "serial=HEX", HEX being the certificate serial as vpnkeys stores it
// (pki.SerialHex: uppercase, even length). Lowercase digits are made
// uppercase and an odd length gets a leading zero; anything but 1 to 40 hex
// digits is refused.
func SerialMetadata(serialHex string) (Metadata, error) {
	s, err := canonicalSerial(serialHex)
	if err != nil {
		return Metadata{}, err
	}
	return Metadata{Type: MetadataUser, Data: []byte(serialPrefix + s)}, nil
}

// ParseSerialMetadata returns the serial that SerialMetadata put in m, in
// SerialMetadata's form.
func ParseSerialMetadata(m Metadata) (string, error) {
	if m.Type != MetadataUser {
		return "", fmt.Errorf("%w: type %d, want user data (0)", ErrMetadata, m.Type)
	}
	s, ok := strings.CutPrefix(string(m.Data), serialPrefix)
	if !ok {
		return "", fmt.Errorf("%w: no %q", ErrMetadata, serialPrefix)
	}
	return canonicalSerial(s)
}

// canonicalSerial checks a hex serial and returns it uppercase with an
// even number of digits.
func canonicalSerial(s string) (string, error) {
	if len(s) == 0 || len(s) > maxSerialHex {
		return "", fmt.Errorf("%w: a serial has 1 to %d hex digits, got %d characters", ErrMetadata, maxSerialHex, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("%w: serial %q is not hex", ErrMetadata, s)
		}
	}
	s = strings.ToUpper(s)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s, nil
}
