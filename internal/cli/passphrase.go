package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// EnvPassphrase holds the CA passphrase for automation. It is read from
// the environment only: a passphrase never goes on the command line, where
// anyone on the host can read it in /proc.
const EnvPassphrase = "VPNKEYS_CA_PASSPHRASE"

var errNoPassphrase = fault.New(fault.Invalid, "no_passphrase", "no CA passphrase: give --passphrase-file FILE or set "+EnvPassphrase+", or run on a terminal")

// CredentialName is the systemd credential that holds the CA passphrase:
// the unit's LoadCredential=ca-passphrase:FILE (or LoadCredentialEncrypted=)
// puts it in $CREDENTIALS_DIRECTORY, readable by the service alone.
const CredentialName = "ca-passphrase"

// passphrase reads the CA passphrase from --passphrase-file (- for stdin),
// the systemd credential, the environment or the terminal, in that order.
// isNew is for a new CA: the passphrase must pass authority.StrongEnough
// (the rule admin passwords follow), and on a terminal it is asked as a new
// one, twice, with up to three tries for a typo or a weak one.
func (app *app) passphrase(isNew bool) (authority.Passphrase, error) {
	var p authority.Passphrase
	var from string
	var err error
	switch dir := os.Getenv("CREDENTIALS_DIRECTORY"); {
	case app.passFile == "-": // `runuser -u vpnkeys -- vpnkeys --passphrase-file - ... < FILE`
		from = "stdin"
		b, rerr := io.ReadAll(io.LimitReader(app.stdio.In, 64<<10))
		if rerr != nil {
			return nil, fmt.Errorf("reading passphrase from stdin: %w", rerr)
		}
		p, err = passphraseBytes(b, from)
	case app.passFile != "":
		from = "passphrase file " + app.passFile
		p, err = readPassFile(app.passFile)
	case dir != "" && exists(filepath.Join(dir, CredentialName)):
		from = "credential " + CredentialName
		p, err = readPassFile(filepath.Join(dir, CredentialName)) // an unreadable credential must say so
	case os.Getenv(EnvPassphrase) != "":
		from, p = EnvPassphrase, authority.Passphrase(os.Getenv(EnvPassphrase))
	default:
		return app.askPassphrase(isNew)
	}
	if err == nil && isNew && !authority.StrongEnough(string(p)) {
		p.Wipe()
		return nil, fmt.Errorf("%w in %s", errWeakPassphrase, from)
	}
	return p, err
}

// askPassphrase asks on the terminal.
func (app *app) askPassphrase(isNew bool) (authority.Passphrase, error) {
	f, ok := app.stdio.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errNoPassphrase
	}
	if !isNew {
		p, err := readHidden(f, app.stdio.Err, "CA passphrase: ")
		if err == nil && len(p) == 0 {
			err = usagef("empty passphrase")
		}
		return p, err
	}
	return newPassphrase(f, app.stdio.Err)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

func readPassFile(path string) (authority.Passphrase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase file: %w", err)
	}
	return passphraseBytes(b, path)
}

func passphraseBytes(b []byte, from string) (authority.Passphrase, error) {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, usagef("passphrase from %s is empty", from)
	}
	return authority.Passphrase(b), nil
}

var errWeakPassphrase = usagef("CA passphrase too short: use at least %d characters (or --no-passphrase for a throwaway CA)",
	authority.MinSecretChars)

// newPassphrase asks for a new CA passphrase and its repetition on a
// terminal, up to three times.
func newPassphrase(f *os.File, prompt io.Writer) (authority.Passphrase, error) {
	var err error
	for range 3 {
		var p, again authority.Passphrase
		if p, err = readHidden(f, prompt, "New CA passphrase: "); err != nil {
			return nil, err
		}
		if !authority.StrongEnough(string(p)) {
			err = errWeakPassphrase
			fmt.Fprintf(prompt, "Too short: use at least %d characters.\n", authority.MinSecretChars)
			p.Wipe()
			continue
		}
		if again, err = readHidden(f, prompt, "Repeat the new CA passphrase: "); err != nil {
			p.Wipe()
			return nil, err
		}
		same := bytes.Equal(p, again)
		again.Wipe()
		if same {
			return p, nil
		}
		p.Wipe()
		err = usagef("the passphrases differ")
		fmt.Fprintln(prompt, "The passphrases differ; try again.")
	}
	return nil, err
}

func readHidden(f *os.File, prompt io.Writer, label string) (authority.Passphrase, error) {
	fmt.Fprint(prompt, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(prompt)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	return authority.Passphrase(b), nil
}
