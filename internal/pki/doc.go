// Package pki is vpnkeys' certificate authority arithmetic, on crypto/x509
// alone: key generation for the supported algorithms, CA, server and client
// certificates with random 128-bit serials, CRLs, and private keys at rest.
//
// Keys at rest come in two forms. The CA key is an encrypted PKCS#8 PEM
// (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC), the format openssl and
// easy-rsa read, so the CA can always leave vpnkeys. Every other key vpnkeys
// keeps (servers', users', the tls-crypt key) is sealed with AES-256-GCM under
// a key derived from the CA private key with HKDF (see Sealer): unlocking the
// CA costs one passphrase derivation, after which thousands of user keys can
// be opened or sealed for microseconds each.
//
// Nothing here touches the disk or the database; the authority package
// decides what to keep and where.
package pki
