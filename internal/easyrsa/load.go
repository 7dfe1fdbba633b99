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
	"syscall"

	"github.com/vpnkeys/vpnkeys/internal/fault"
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

// ProblemsError lists every problem that stops an import. It is bad
// input: fault.Invalid, code "invalid".
type ProblemsError []Problem

// Kind classifies the problems as bad input (fault.Classified).
func (ProblemsError) Kind() fault.Kind { return fault.Invalid }

// Code is the stable code of bad input.
func (ProblemsError) Code() string { return "invalid" }

func (e ProblemsError) Error() string {
	return fmt.Sprintf("%d problems in the easy-rsa PKI:\n%s", len(e), strings.Join(e.Lines(), "\n"))
}

// Lines gives each problem on a line of its own, naming its file and line,
// for a front end that prints them one by one.
func (e ProblemsError) Lines() []string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.String()
	}
	return lines
}

// Cert is one index.txt row with its certificate and, when found, its key.
type Cert struct {
	Entry
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte // plain PKCS#8, nil when no usable key was found
	File    string // the certificate's file, relative to the PKI folder
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
	read := func(rel string, max int64) []byte {
		b, err := readPKIFile(dir, rel, max)
		if errors.Is(err, errNotExist) {
			bad(rel, 0, "cannot read: %v", syscall.ENOENT)
			return nil
		}
		if err != nil {
			bad(rel, 0, "%v", err)
			return nil
		}
		return b
	}

	if b := read("ca.crt", maxSmallFile); b != nil {
		c, err := pki.ParseCert(b)
		if err != nil {
			bad("ca.crt", 0, "%v", err)
		} else {
			p.CACert, p.CACertPEM = c, pki.CertPEM(c)
		}
	}
	if b := read("private/ca.key", maxSmallFile); b != nil {
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
	if b := read("index.txt", maxListFile); b != nil {
		p.matchIndex(b, certs, bad)
	}
	attachKeys(dir, p, bad)
	p.loadCRL(dir, bad)
	if len(probs) > 0 {
		return nil, ProblemsError(probs)
	}
	return p, nil
}

// matchIndex parses index.txt and pairs each row with its certificate file.
func (p *PKI) matchIndex(b []byte, certs map[string]foundCert, bad func(string, int, string, ...any)) {
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
		p.Certs = append(p.Certs, Cert{Entry: e, Cert: c.Cert, CertPEM: pki.CertPEM(c.Cert), File: c.file, Server: slices.Contains(c.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)})
	}
}

// loadCRL reads crl.pem when there is one; an unreadable CRL is a warning,
// a crl.pem that is not a bounded regular file a problem.
func (p *PKI) loadCRL(dir string, bad func(string, int, string, ...any)) {
	b, err := readPKIFile(dir, "crl.pem", maxListFile)
	if err != nil && !errors.Is(err, errNotExist) {
		bad("crl.pem", 0, "%v", err)
	}
	if err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			if crl, err := x509.ParseRevocationList(blk.Bytes); err == nil {
				p.CRL = crl
			} else {
				p.Warnings = append(p.Warnings, Problem{"crl.pem", 0, "unreadable, ignored"})
			}
		}
	}
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

// certFolders are where easy-rsa 3.0 and 3.1 keep certificates, with the
// ending of their file names: issued/ and certs_by_serial/ for current
// ones, revoked/ for revoked ones, renewed/certs_by_serial/ (3.0) and
// renewed/issued/ (3.1's renew, which keeps the old certificate valid) for
// renewed ones.
var certFolders = []struct{ dir, ext string }{
	{"issued", ".crt"}, {"certs_by_serial", ".pem"}, {"revoked/certs_by_serial", ".crt"},
	{"renewed/certs_by_serial", ".crt"}, {"renewed/issued", ".crt"}, {"revoked/certs_by_serial", ".pem"},
}

// findCerts indexes every certificate file easy-rsa 3.0 and 3.1 keep, by
// serial; the first file found for a serial wins.
func findCerts(dir string, bad func(string, int, string, ...any)) map[string]foundCert {
	out := map[string]foundCert{}
	for _, fo := range certFolders {
		for _, rel := range listFolder(dir, fo.dir, fo.ext, bad) {
			b, err := readPKIFile(dir, rel, maxSmallFile)
			if err != nil {
				bad(rel, 0, "%v", err)
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

// listFolder lists the entries of dir/folder whose names end in ext, as
// paths relative to dir, sorted; every entry is listed whatever its type,
// so that readPKIFile reports the ones that are not regular files. A
// missing folder lists nothing; a folder that is a link is a problem.
func listFolder(dir, folder, ext string, bad func(string, int, string, ...any)) []string {
	if err := checkFolders(dir, folder+"/x"); err != nil {
		if !errors.Is(err, errNotExist) {
			bad(folder, 0, "%v", err)
		}
		return nil
	}
	ents, err := os.ReadDir(filepath.Join(dir, folder))
	if err != nil {
		bad(folder, 0, "cannot list: %v", errors.Unwrap(err))
		return nil
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ext) {
			out = append(out, folder+"/"+e.Name())
		}
	}
	return out
}

// attachKeys finds each certificate's key: private/CN.key for the current
// one, revoked/ or renewed/private_by_serial/SERIAL.key (3.0) or
// renewed/private/NAME.key (3.1, beside renewed/issued/NAME.crt) for older
// ones. A key that is not a regular file, or too large, is a problem.
func attachKeys(dir string, p *PKI, bad func(string, int, string, ...any)) {
	for i := range p.Certs {
		c := &p.Certs[i]
		renewedName, renewed := strings.CutPrefix(c.File, "renewed/issued/")
		if !renewed {
			renewedName = c.CN + ".crt"
		}
		for _, rel := range []string{
			"private/" + c.CN + ".key",
			"revoked/private_by_serial/" + c.Serial + ".key",
			"renewed/private_by_serial/" + c.Serial + ".key",
			"renewed/private/" + strings.TrimSuffix(renewedName, ".crt") + ".key",
		} {
			b, err := readPKIFile(dir, rel, maxSmallFile)
			if errors.Is(err, errNotExist) {
				continue
			}
			if err != nil {
				bad(rel, 0, "%v", err)
				break
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
				if strings.HasPrefix(rel, "renewed/private/") && !renewed {
					continue // the key of the renewed certificate, not this one
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
		if o.CN == c.CN && o.Status == 'V' && o.Newer(*c) {
			return false
		}
	}
	return true
}

// Newer reports whether c is newer than o: a later notBefore, then a later
// notAfter, then a later row in index.txt (openssl appends, and a renewal
// within the same second as the issue gives equal dates).
func (c Cert) Newer(o Cert) bool {
	if !c.Cert.NotBefore.Equal(o.Cert.NotBefore) {
		return c.Cert.NotBefore.After(o.Cert.NotBefore)
	}
	if !c.Cert.NotAfter.Equal(o.Cert.NotAfter) {
		return c.Cert.NotAfter.After(o.Cert.NotAfter)
	}
	return c.Line > o.Line
}
