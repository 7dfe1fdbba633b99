package ovpn

import (
	"fmt"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// TLSMode is how a server protects its control channel.
type TLSMode string

// The control-channel modes a server can have.
const (
	// TLSCrypt encrypts and authenticates the control channel with the
	// company's static key (ta.key): vpnkeys' default.
	TLSCrypt TLSMode = "tls-crypt"
	// TLSAuth only authenticates it with the same static key, as
	// easy-rsa setups with `tls-auth ta.key 1` in their clients do.
	TLSAuth TLSMode = "tls-auth"
	// TLSCryptV2 gives each user a client key of their own, wrapped by
	// the company's tls-crypt-v2 server key, that carries the user's
	// certificate serial: a revoked user is dropped before TLS.
	TLSCryptV2 TLSMode = "tls-crypt-v2"
)

// TLSModes are the modes in the order help texts list them.
var TLSModes = []TLSMode{TLSCrypt, TLSAuth, TLSCryptV2}

// ErrTLSMode rejects an unknown control-channel mode.
var ErrTLSMode = fault.New(fault.Invalid, "invalid", "unknown tls mode")

// ParseTLSMode checks a mode's name; "" is the default, TLSCrypt.
func ParseTLSMode(s string) (TLSMode, error) {
	if s == "" {
		return TLSCrypt, nil
	}
	for _, m := range TLSModes {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(TLSModes))
	for i, m := range TLSModes {
		names[i] = string(m)
	}
	return "", fmt.Errorf("%w %q: want %s", ErrTLSMode, s, strings.Join(names, ", "))
}

// OrDefault is m, or TLSCrypt when m is "".
func (m TLSMode) OrDefault() TLSMode {
	if m == "" {
		return TLSCrypt
	}
	return m
}
