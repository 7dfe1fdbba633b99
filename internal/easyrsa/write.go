package easyrsa

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// ExportCert is one certificate to lay out.
type ExportCert struct {
	Cert      *x509.Certificate
	KeyPEM    []byte // plain, may be nil
	Status    byte   // 'V', 'R' or 'E'
	Current   bool   // the subject's live certificate: issued/CN.crt and private/CN.key
	RevokedAt time.Time
	Reason    string
}

// Export is a whole PKI to write.
type Export struct {
	CACertPEM []byte
	CAKeyPEM  []byte // written as is to private/ca.key
	Certs     []ExportCert
	CRLPEM    []byte
}

// SystemDir is where Debian installs easy-rsa; Write copies its
// openssl-easyrsa.cnf and x509-types from there when present, so the
// folder works without init-pki.
var SystemDir = "/usr/share/easy-rsa"

// Write creates dir in easy-rsa 3.1's layout. dir must not exist (or be
// empty). The folder is built beside dir and renamed into place, so a
// failure leaves nothing behind. Keys are 0600, folders 0700.
func Write(dir string, x Export) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", dir)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := layout(tmp, x); err != nil {
		return err
	}
	os.Remove(dir) // an empty folder may be there
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	return nil
}

func layout(root string, x Export) error {
	for _, d := range []string{"issued", "private", "reqs", "certs_by_serial", "revoked/certs_by_serial",
		"revoked/private_by_serial", "revoked/reqs_by_serial", "renewed/certs_by_serial", "renewed/private_by_serial", "renewed/reqs_by_serial"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return fmt.Errorf("exporting: %w", err)
		}
	}
	var errs []error
	put := func(rel string, data []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(root, rel), data, mode); err != nil {
			errs = append(errs, fmt.Errorf("exporting %s: %w", rel, err))
		}
	}
	put("ca.crt", x.CACertPEM, 0o644)
	put("private/ca.key", x.CAKeyPEM, 0o600)
	put("crl.pem", x.CRLPEM, 0o644)
	put("index.txt.attr", []byte("unique_subject = no\n"), 0o644)
	serial, err := pki.NewSerial()
	if err != nil {
		return err
	}
	put("serial", []byte(pki.SerialHex(serial)+"\n"), 0o644)
	var entries []Entry
	for _, c := range x.Certs {
		s := pki.SerialHex(c.Cert.SerialNumber)
		cn := c.Cert.Subject.CommonName
		if strings.ContainsAny(cn, "/\\") || cn == "" || cn == "." || cn == ".." {
			return fmt.Errorf("exporting: common name %q cannot be a file name", cn)
		}
		certPEM := pki.CertPEM(c.Cert)
		entries = append(entries, Entry{Status: c.Status, Expiry: c.Cert.NotAfter, RevokedAt: c.RevokedAt, Reason: c.Reason, Serial: s, CN: cn})
		switch {
		case c.Status == 'R':
			put("revoked/certs_by_serial/"+s+".crt", certPEM, 0o644)
			if c.KeyPEM != nil {
				put("revoked/private_by_serial/"+s+".key", c.KeyPEM, 0o600)
			}
		case c.Current:
			put("certs_by_serial/"+s+".pem", certPEM, 0o644)
			put("issued/"+cn+".crt", certPEM, 0o644)
			if c.KeyPEM != nil {
				put("private/"+cn+".key", c.KeyPEM, 0o600)
			}
		default:
			put("certs_by_serial/"+s+".pem", certPEM, 0o644)
		}
	}
	put("index.txt", FormatIndex(entries), 0o644)
	for _, f := range []string{"openssl-easyrsa.cnf"} {
		if b, err := os.ReadFile(filepath.Join(SystemDir, f)); err == nil {
			put(f, b, 0o644)
		}
	}
	return errors.Join(errs...)
}
