// Package easyrsa reads and writes easy-rsa 3 PKI folders: index.txt with
// its V, R and E rows, the certificates under issued/, certs_by_serial/,
// revoked/ and renewed/, the keys under private/ (plain, PKCS#8 encrypted,
// or legacy PEM encrypted), serial and crl.pem. Load checks a whole folder
// and reports every problem with its file and line; Write lays a PKI out so
// that Debian's easy-rsa 3.1 commands work on it.
package easyrsa
