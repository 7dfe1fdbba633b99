// Package easyrsa reads and writes easy-rsa 3 PKI folders: index.txt with
// its V, R and E rows, the certificates under issued/, certs_by_serial/,
// revoked/ and renewed/ (3.0's renewed/certs_by_serial/ and 3.1's
// renewed/issued/ with renewed/private/), the keys under private/ (plain,
// PKCS#8 encrypted, or legacy PEM encrypted), serial and crl.pem. Load checks
// a whole folder and reports every problem with its file and line; it reads
// regular files only, never through a link, and each within a size bound
// (read.go), so a folder it is pointed at cannot make it block or exhaust
// memory. Write lays a PKI out so that Debian's easy-rsa 3.1 commands work
// on it.
package easyrsa
