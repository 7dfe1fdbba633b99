package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
)

// Algo names a key algorithm.
type Algo string

// The supported key algorithms. P256 is the default: fast, small, and
// supported by every OpenVPN 2.4+ client.
const (
	P256    Algo = "p256"
	P384    Algo = "p384"
	Ed25519 Algo = "ed25519"
	RSA2048 Algo = "rsa2048"
	RSA3072 Algo = "rsa3072"
	RSA4096 Algo = "rsa4096"
)

// Algos lists the supported algorithms.
var Algos = []Algo{P256, P384, Ed25519, RSA2048, RSA3072, RSA4096}

// ParseAlgo accepts one of Algos; the empty string gives P256.
func ParseAlgo(s string) (Algo, error) {
	if s == "" {
		return P256, nil
	}
	for _, a := range Algos {
		if string(a) == strings.ToLower(s) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: algorithm %q: use p256, p384, ed25519, rsa2048, rsa3072 or rsa4096", ErrInvalid, s)
}

// GenerateKey makes a new private key of algorithm a.
func GenerateKey(a Algo) (crypto.Signer, error) {
	switch a {
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("%w: algorithm %q", ErrInvalid, a)
}

// AlgoOf tells the algorithm of a public key, or "" when unsupported.
func AlgoOf(pub crypto.PublicKey) Algo {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return P256
		case elliptic.P384():
			return P384
		}
	case ed25519.PublicKey:
		return Ed25519
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048
		case 3072:
			return RSA3072
		case 4096:
			return RSA4096
		}
	}
	return ""
}

// signatureAlgorithm picks the signature algorithm a CA key signs with.
func signatureAlgorithm(k crypto.Signer) x509.SignatureAlgorithm {
	switch AlgoOf(k.Public()) {
	case P384:
		return x509.ECDSAWithSHA384
	case P256:
		return x509.ECDSAWithSHA256
	case Ed25519:
		return x509.PureEd25519
	}
	return x509.SHA256WithRSA
}
