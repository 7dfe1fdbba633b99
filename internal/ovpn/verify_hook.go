package ovpn

import (
	"bytes"
	"slices"
)

// Files of a tls-crypt-v2 server's folder besides the common ones.
const (
	// TLSCryptV2ServerKeyName holds the company's tls-crypt-v2 server key
	// (the same on every tls-crypt-v2 server).
	TLSCryptV2ServerKeyName = "tls-crypt-v2-server.key"
	// TLSCryptV2VerifyName is the tls-crypt-v2-verify script (VerifyHook).
	TLSCryptV2VerifyName = "tls-crypt-v2-verify.sh"
	// RevokedSerialsName lists the CRL's serials, one a line, for the
	// verify script (RevokedSerials).
	RevokedSerialsName = "revoked-serials"
)

// verifyHook is tls-crypt-v2-verify.sh. OpenVPN runs it, as its dropped
// user and with no PATH, before any TLS work, for each new client: the
// environment holds metadata_type and metadata_file (the metadata the
// client key carries, without its type byte). It exits 0 only for a key
// whose metadata is "serial=HEX" (tlscryptv2.SerialMetadata) with a
// serial that revoked-serials does not list; a missing list refuses
// everyone rather than let a revoked user through.
const verifyHook = `#!/bin/sh
# Written by vpnkeys: tls-crypt-v2-verify. Drops, before any TLS work, a client
# whose key carries no vpnkeys certificate serial or a revoked one (listed in
# revoked-serials, which vpnkeys rewrites with every CRL). Exit 0 admits.
[ "$metadata_type" = 0 ] || exit 1
[ -n "$metadata_file" ] && [ -r "$metadata_file" ] || exit 1
m=
IFS= read -r m <"$metadata_file"
case "$m" in
serial=*) s=${m#serial=} ;;
*) exit 1 ;;
esac
case "$s" in
'' | *[!0-9A-F]*) exit 1 ;;
esac
[ "${#s}" -le 40 ] || exit 1
[ -r ./revoked-serials ] || exit 1
/bin/grep -qxF -e "$s" ./revoked-serials
case $? in
1) exit 0 ;;
*) exit 1 ;;
esac
`

// VerifyHook renders tls-crypt-v2-verify.sh; server.conf runs it from the
// server's folder (OpenVPN's --cd), where revoked-serials is.
func VerifyHook() []byte { return []byte(verifyHook) }

// RevokedSerials renders revoked-serials: serials (upper-case hex, as
// pki.SerialHex writes them) sorted, one a line.
func RevokedSerials(serials []string) []byte {
	s := slices.Clone(serials)
	slices.Sort(s)
	var b bytes.Buffer
	for _, x := range slices.Compact(s) {
		b.WriteString(x + "\n")
	}
	return b.Bytes()
}
