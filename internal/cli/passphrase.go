package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// EnvPassphrase holds the CA passphrase for automation. It is read from
// the environment only: a passphrase never goes on the command line, where
// anyone on the host can read it in /proc.
const EnvPassphrase = "VPNKEYS_CA_PASSPHRASE"

var errNoPassphrase = fault.New(fault.Invalid, "no_passphrase", "no CA passphrase: give --passphrase-file FILE or set "+EnvPassphrase+", or run on a terminal")

// passphrase reads the CA passphrase from --passphrase-file, the
// environment or the terminal, in that order. isNew is for a new CA: the
// passphrase must pass authority.StrongEnough (the rule admin passwords
// follow), and on a terminal it is asked as a new one, twice, with up to
// three tries for a typo or a weak one.
func (app *app) passphrase(isNew bool) (authority.Passphrase, error) {
	if app.passFile != "" {
		b, err := os.ReadFile(app.passFile)
		if err != nil {
			return nil, fmt.Errorf("reading passphrase file: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, usagef("passphrase file %s is empty", app.passFile)
		}
		if isNew && !authority.StrongEnough(string(b)) {
			return nil, fmt.Errorf("%w in passphrase file %s", errWeakPassphrase, app.passFile)
		}
		return authority.Passphrase(b), nil
	}
	if v, ok := os.LookupEnv(EnvPassphrase); ok && v != "" {
		if isNew && !authority.StrongEnough(v) {
			return nil, fmt.Errorf("%w in %s", errWeakPassphrase, EnvPassphrase)
		}
		return authority.Passphrase(v), nil
	}
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
