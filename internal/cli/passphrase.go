package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// EnvPassphrase holds the CA passphrase for automation. It is read from
// the environment only: a passphrase never goes on the command line, where
// anyone on the host can read it in /proc.
const EnvPassphrase = "VPNKEYS_CA_PASSPHRASE"

var errNoPassphrase = errors.New("no CA passphrase: give --passphrase-file FILE or set " + EnvPassphrase + ", or run on a terminal")

// CredentialName is the systemd credential that holds the CA passphrase:
// the unit's LoadCredential=ca-passphrase:FILE (or LoadCredentialEncrypted=)
// puts it in $CREDENTIALS_DIRECTORY, readable by the service alone.
const CredentialName = "ca-passphrase"

// passphrase reads the CA passphrase from --passphrase-file, the systemd
// credential, the environment or the terminal, in that order. confirm asks
// twice on a terminal (for a new CA).
func (app *app) passphrase(confirm bool) (pki.Passphrase, error) {
	if app.passFile == "-" { // stdin: `runuser -u vpnkeys -- vpnkeys --passphrase-file - ... < FILE`
		b, err := io.ReadAll(io.LimitReader(app.stdio.In, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("reading passphrase from stdin: %w", err)
		}
		return passphraseBytes(b, "stdin")
	}
	if app.passFile != "" {
		return readPassFile(app.passFile)
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		p := filepath.Join(dir, CredentialName)
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			return readPassFile(p) // an unreadable credential must say so
		}
	}
	if v, ok := os.LookupEnv(EnvPassphrase); ok && v != "" {
		return pki.Passphrase(v), nil
	}
	f, ok := app.stdio.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errNoPassphrase
	}
	p, err := readHidden(f, app.stdio.Err, "CA passphrase: ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase (use --no-passphrase for a CA without one)", pki.ErrInvalid)
	}
	if confirm {
		again, err := readHidden(f, app.stdio.Err, "Again: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, again) {
			return nil, fmt.Errorf("%w: the passphrases differ", pki.ErrInvalid)
		}
		pki.Passphrase(again).Wipe()
	}
	return p, nil
}

func readPassFile(path string) (pki.Passphrase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase file: %w", err)
	}
	return passphraseBytes(b, path)
}

func passphraseBytes(b []byte, from string) (pki.Passphrase, error) {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: passphrase from %s is empty", pki.ErrInvalid, from)
	}
	return pki.Passphrase(b), nil
}

func readHidden(f *os.File, prompt io.Writer, label string) (pki.Passphrase, error) {
	fmt.Fprint(prompt, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(prompt)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	return pki.Passphrase(b), nil
}
