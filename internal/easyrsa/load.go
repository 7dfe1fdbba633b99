package easyrsa

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// Problem is one thing wrong with a PKI folder.
type Problem struct {
	File string // relative to the PKI folder
	Line int    // 0 when not about a line
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return p.File + ": " + p.Msg
}

// ProblemsError lists every problem that stops an import.
type ProblemsError []Problem

func (e ProblemsError) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problems in the easy-rsa PKI:\n%s", len(e), strings.Join(lines, "\n"))
}

// Cert is one index.txt row with its certificate and, when found, its key.
type Cert struct {
	Entry
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte // plain PKCS#8, nil when no usable key was found
	Server  bool   // has extKeyUsage serverAuth
}

// PKI is a loaded easy-rsa folder.
type PKI struct {
	Dir       string
	CACert    *x509.Certificate
	CACertPEM []byte
	CAKey     crypto.Signer
	Encrypted bool // ca.key had a passphrase
	Certs     []Cert
	CRL       *x509.RevocationList
	Warnings  []Problem
}

// Load reads and checks the PKI in dir (the folder holding ca.crt and
// index.txt). pass is called once, only when ca.key is encrypted. Every
// problem found is returned together as ProblemsError; a wrong passphrase
// gives pki.ErrWrongPassphrase.
func Load(dir string, pass func() (pki.Passphrase, error)) (*PKI, error) {
	p := &PKI{Dir: dir}
	var probs []Problem
	bad := func(file string, line int, format string, args ...any) {
		probs = append(probs, Problem{file, line, fmt.Sprintf(format, args...)})
	}
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			bad(rel, 0, "cannot read: %v", errors.Unwrap(err))
			return nil
		}
		return b
	}

	if b := read("ca.crt"); b != nil {
		c, err := pki.ParseCert(b)
		if err != nil {
			bad("ca.crt", 0, "%v", err)
		} else {
			p.CACert, p.CACertPEM = c, pki.CertPEM(c)
		}
	}
	if b := read("private/ca.key"); b != nil {
		var pw pki.Passphrase
		if pki.IsEncrypted(b) {
			p.Encrypted = true
			var err error
			if pw, err = pass(); err != nil {
				return nil, err
			}
		}
		k, err := pki.ParseKey(b, pw)
		switch {
		case errors.Is(err, pki.ErrWrongPassphrase):
			return nil, err
		case err != nil:
			bad("private/ca.key", 0, "%v", err)
		case p.CACert != nil && pki.MatchesCert(k, p.CACert) != nil:
			bad("private/ca.key", 0, "does not match ca.crt")
		default:
			p.CAKey = k
		}
	}
	certs := findCerts(dir, bad)
	if b := read("index.txt"); b != nil {
		entries, err := ParseIndex(bytes.NewReader(b))
		if err != nil {
			n := lineOf(err)
			bad("index.txt", n, "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("index.txt:%d: ", n)))
		}
		seen := map[string]int{}
		for _, e := range entries {
			if first, dup := seen[e.Serial]; dup {
				bad("index.txt", e.Line, "serial %s already on line %d", e.Serial, first)
				continue
			}
			seen[e.Serial] = e.Line
			c, ok := certs[e.Serial]
			if !ok {
				bad("index.txt", e.Line, "no certificate file for serial %s (%s)", e.Serial, e.CN)
				continue
			}
			if p.CACert != nil {
				if err := c.Cert.CheckSignatureFrom(p.CACert); err != nil {
					bad(c.file, 0, "not signed by ca.crt (index.txt:%d, %s)", e.Line, e.CN)
					continue
				}
			}
			if c.Cert.Subject.CommonName != e.CN {
				bad(c.file, 0, "CN %q differs from index.txt:%d (%s)", c.Cert.Subject.CommonName, e.Line, e.CN)
				continue
			}
			p.Certs = append(p.Certs, Cert{Entry: e, Cert: c.Cert, CertPEM: pki.CertPEM(c.Cert), Server: slices.Contains(c.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)})
		}
	}
	attachKeys(dir, p, bad)
	if b, err := os.ReadFile(filepath.Join(dir, "crl.pem")); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			if crl, err := x509.ParseRevocationList(blk.Bytes); err == nil {
				p.CRL = crl
			} else {
				p.Warnings = append(p.Warnings, Problem{"crl.pem", 0, "unreadable, ignored"})
			}
		}
	}
	if len(probs) > 0 {
		return nil, ProblemsError(probs)
	}
	return p, nil
}

func lineOf(err error) int {
	var n int
	fmt.Sscanf(err.Error(), "index.txt:%d:", &n)
	return n
}

type foundCert struct {
	Cert *x509.Certificate
	file string
}

// findCerts indexes every certificate file easy-rsa 3.0 and 3.1 keep, by serial.
func findCerts(dir string, bad func(string, int, string, ...any)) map[string]foundCert {
	out := map[string]foundCert{}
	for _, pat := range []string{"issued/*.crt", "certs_by_serial/*.pem", "revoked/certs_by_serial/*.crt",
		"renewed/certs_by_serial/*.crt", "revoked/certs_by_serial/*.pem"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			b, err := os.ReadFile(f)
			if err != nil {
				bad(rel, 0, "cannot read: %v", err)
				continue
			}
			c, err := pki.ParseCert(b)
			if err != nil {
				bad(rel, 0, "%v", err)
				continue
			}
			serial := pki.SerialHex(c.SerialNumber)
			if _, ok := out[serial]; !ok {
				out[serial] = foundCert{c, rel}
			}
		}
	}
	return out
}

// attachKeys finds each certificate's key: private/CN.key for the current
// one, revoked/ or renewed/private_by_serial/SERIAL.key for older ones.
func attachKeys(dir string, p *PKI, bad func(string, int, string, ...any)) {
	for i := range p.Certs {
		c := &p.Certs[i]
		for _, rel := range []string{
			"private/" + c.CN + ".key",
			"revoked/private_by_serial/" + c.Serial + ".key",
			"renewed/private_by_serial/" + c.Serial + ".key",
		} {
			b, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				continue
			}
			if pki.IsEncrypted(b) {
				p.Warnings = append(p.Warnings, Problem{rel, 0, "key has its own passphrase; certificate imported without it"})
				break
			}
			k, err := pki.ParseKey(b, nil)
			if err != nil {
				bad(rel, 0, "%v", err)
				break
			}
			if pki.MatchesCert(k, c.Cert) != nil {
				if strings.HasPrefix(rel, "private/") && c.Status != 'V' {
					continue // the key of a newer certificate of the same CN
				}
				if strings.HasPrefix(rel, "private/") && !isNewestValid(p, c) {
					continue
				}
				bad(rel, 0, "does not match the certificate of serial %s (index.txt:%d)", c.Serial, c.Line)
				break
			}
			if c.KeyPEM, err = pki.MarshalKey(k); err != nil {
				bad(rel, 0, "%v", err)
			}
			break
		}
	}
}

// isNewestValid reports whether c is the newest V row of its CN.
func isNewestValid(p *PKI, c *Cert) bool {
	for _, o := range p.Certs {
		if o.CN == c.CN && o.Status == 'V' && o.Cert.NotBefore.After(c.Cert.NotBefore) {
			return false
		}
	}
	return true
}
