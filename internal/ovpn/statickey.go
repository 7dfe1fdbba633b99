package ovpn

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// StaticKeySize is the size of an OpenVPN static key: 2048 bits, the size
// `openvpn --genkey tls-crypt` writes.
const StaticKeySize = 256

const (
	staticKeyBegin = "-----BEGIN OpenVPN Static key V1-----"
	staticKeyEnd   = "-----END OpenVPN Static key V1-----"
)

// ErrStaticKey is returned for a malformed static key file.
var ErrStaticKey = fault.New(fault.Invalid, "invalid", "not an OpenVPN static key")

// NewStaticKey draws a fresh tls-crypt key.
func NewStaticKey() ([]byte, error) {
	k := make([]byte, StaticKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("drawing tls-crypt key: %w", err)
	}
	return k, nil
}

// FormatStaticKey writes a key in OpenVPN's file format: 16 lines of 32 hex
// digits between the V1 markers.
func FormatStaticKey(k []byte) []byte {
	var b bytes.Buffer
	b.WriteString("#\n# 2048 bit OpenVPN static key\n#\n")
	b.WriteString(staticKeyBegin + "\n")
	h := hex.EncodeToString(k)
	for i := 0; i < len(h); i += 32 {
		b.WriteString(h[i:min(i+32, len(h))] + "\n")
	}
	b.WriteString(staticKeyEnd + "\n")
	return b.Bytes()
}

// ParseStaticKey reads OpenVPN's static key file format.
func ParseStaticKey(data []byte) ([]byte, error) {
	var hexed strings.Builder
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == staticKeyBegin:
			in = true
		case line == staticKeyEnd:
			k, err := hex.DecodeString(hexed.String())
			if err != nil || len(k) != StaticKeySize {
				return nil, fmt.Errorf("%w: want %d hex-encoded bytes", ErrStaticKey, StaticKeySize)
			}
			return k, nil
		case in:
			hexed.WriteString(line)
		}
	}
	return nil, fmt.Errorf("%w: no %q block", ErrStaticKey, staticKeyBegin)
}
