// Package tlscryptv2 makes and reads OpenVPN's tls-crypt-v2 keys in Go,
// byte for byte as OpenVPN 2.6 does (src/openvpn/tls_crypt.c,
// doc/tls-crypt-v2.txt), so vpnkeys never shells out to
// `openvpn --genkey`.
//
// tls-crypt-v2 gives every client a control-channel key of its own. The
// server holds one server key (ServerKey): 128 bytes, of which bytes 0-31
// are Ke, an AES-256-CTR key, and bytes 64-95 are Ka, an HMAC-SHA256 key
// (OpenVPN's struct key: a 64-byte cipher half and a 64-byte HMAC half, of
// which AES-256 and SHA-256 use the first 32 bytes each). A client key is
// Kc, 256 random bytes the client uses as a tls-crypt key, followed by WKc,
// the same Kc and the client's metadata M wrapped under the server key:
//
//	len = uint16 big-endian, 32 + |Kc| + |M| + 2 (the length of WKc)
//	T   = HMAC-SHA256(Ka, len || Kc || M)
//	WKc = T || AES-256-CTR(Ke, IV = T[0:16], Kc || M) || len
//
// The client sends WKc in its first packet; the server unwraps it with its
// server key, so it needs no list of client keys. M is one type byte
// (MetadataUser, or MetadataTimestamp, which `openvpn --genkey` writes
// when given no metadata) and at most MaxMetadataLen bytes of data.
//
// vpnkeys puts the client certificate's serial in the metadata
// (SerialMetadata: "serial=" and the serial in uppercase hex). OpenVPN's
// `--tls-crypt-v2-verify CMD` runs CMD for every new client before any TLS
// work, with the metadata type in the environment variable metadata_type
// ("0" for user data) and the metadata without its type byte in the file
// named by metadata_file; a non-zero exit drops the client. VerifyMetadata
// is that check, for the agent: it refuses a revoked serial and anything
// that does not carry a serial, so a revoked user is dropped before the
// server spends a handshake on them.
//
// Keys are secrets: ServerKey prints as [redacted], and no error of this
// package quotes key material.
package tlscryptv2
