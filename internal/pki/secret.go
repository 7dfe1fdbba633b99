package pki

import "log/slog"

// Passphrase is a secret that unlocks the CA key. It never prints: %v, %s,
// %#v, JSON and slog all show "[redacted]".
type Passphrase []byte

const redacted = "[redacted]"

func (Passphrase) String() string               { return redacted }
func (Passphrase) GoString() string             { return redacted }
func (Passphrase) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Passphrase) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Wipe overwrites the passphrase in memory.
func (p Passphrase) Wipe() {
	for i := range p {
		p[i] = 0
	}
}
