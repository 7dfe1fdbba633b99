package tlscryptv2

import (
	"fmt"
	"strconv"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// ErrRevoked is returned by VerifyMetadata for a client key whose
// certificate serial is revoked.
var ErrRevoked = fault.New(fault.Unauthorized, "revoked", "certificate revoked")

// VerifyMetadata is the check behind OpenVPN's `--tls-crypt-v2-verify CMD`:
// metadataType is the environment variable metadata_type ("0" for user
// data) and metadata the content of the file named by metadata_file (the
// metadata without its type byte). It returns nil, and CMD should exit 0,
// only for a key that carries a serial (SerialMetadata) that revoked does
// not report; any other key (a timestamp key from `openvpn --genkey`,
// foreign user data) is refused with ErrMetadata, a revoked serial with
// ErrRevoked. OpenVPN drops the client on a non-zero exit, before TLS.
//
// revoked decides on a canonical serial (uppercase hex, even length); a
// caller that cannot tell (no revocation list at hand) chooses there
// whether to let the client through.
func VerifyMetadata(metadataType string, metadata []byte, revoked func(serial string) bool) error {
	typ, err := strconv.ParseUint(metadataType, 10, 8)
	if err != nil {
		return fmt.Errorf("%w: metadata_type %q is not a number from 0 to 255", ErrMetadata, metadataType)
	}
	m := Metadata{Type: MetadataType(typ), Data: metadata}
	serial, err := ParseSerialMetadata(m)
	if err != nil {
		return err
	}
	if revoked(serial) {
		return fmt.Errorf("%w: serial %s", ErrRevoked, serial)
	}
	return nil
}
