// Package easyrsatest drives Debian's real easy-rsa 3.1 in batch mode for
// tests: a PKI in a temp folder, passphrases only through files.
package easyrsatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// PKI is an easy-rsa PKI folder under test.
type PKI struct {
	Bin, Dir        string
	passIn, passOut string
	env             []string
}

// New runs init-pki and build-ca. algo is "p256", "p384" or "rsa"
// (2048 bits); pass "" makes a nopass CA.
func New(t testing.TB, algo, pass string) *PKI {
	t.Helper()
	e := &PKI{Bin: testenv.EasyRSA(t), Dir: filepath.Join(t.TempDir(), "pki")}
	e.env = append(os.Environ(), "EASYRSA_BATCH=1", "EASYRSA_PKI="+e.Dir)
	switch algo {
	case "rsa":
		e.env = append(e.env, "EASYRSA_ALGO=rsa", "EASYRSA_KEY_SIZE=2048")
	case "p384":
		e.env = append(e.env, "EASYRSA_ALGO=ec", "EASYRSA_CURVE=secp384r1")
	default:
		e.env = append(e.env, "EASYRSA_ALGO=ec", "EASYRSA_CURVE=prime256v1")
	}
	e.Run(t, "init-pki")
	if pass != "" {
		e.SetPassphrase(t, pass)
		e.Run(t, "--req-cn=Test CA", "build-ca")
	} else {
		e.Run(t, "--req-cn=Test CA", "build-ca", "nopass")
	}
	return e
}

// Open returns a PKI already on disk (an export, say).
func Open(t testing.TB, dir, pass string) *PKI {
	t.Helper()
	e := &PKI{Bin: testenv.EasyRSA(t), Dir: dir}
	e.env = append(os.Environ(), "EASYRSA_BATCH=1", "EASYRSA_PKI="+dir)
	if pass != "" {
		e.SetPassphrase(t, pass)
	}
	return e
}

// SetPassphrase makes later runs read the CA passphrase from files (two:
// openssl reads a second line when -passin and -passout name one file).
func (e *PKI) SetPassphrase(t testing.TB, pass string) {
	t.Helper()
	e.passIn, e.passOut = filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	os.WriteFile(e.passIn, []byte(pass+"\n"), 0o600)
	os.WriteFile(e.passOut, []byte(pass+"\n"), 0o600)
}

// Run runs easyrsa with args from outside the PKI folder (easy-rsa 3.1
// refuses to run in it when it finds vars twice).
func (e *PKI) Run(t testing.TB, args ...string) string {
	t.Helper()
	if e.passIn != "" {
		args = append([]string{"--passin=file:" + e.passIn, "--passout=file:" + e.passOut}, args...)
	}
	cmd := exec.Command(e.Bin, args...)
	cmd.Env, cmd.Dir = e.env, filepath.Dir(e.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("easyrsa %v: %v\n%s", args, err, out)
	}
	return string(out)
}
