package cli

import (
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/easyrsa"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// usageError marks a command line that does not parse.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitCanceled = 130
)

// exitCode maps an error to the process exit code: the one place where
// domain errors meet the shell.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue),
		errors.Is(err, account.ErrInvalid),
		errors.Is(err, pki.ErrInvalid),
		errors.Is(err, pki.ErrWrongPassphrase),
		errors.Is(err, ovpn.ErrRemote),
		errors.Is(err, authority.ErrUserNotFound),
		errors.Is(err, authority.ErrServerNotFound),
		errors.Is(err, authority.ErrServerExists),
		errors.Is(err, authority.ErrNotActive),
		errors.Is(err, authority.ErrNotInitialized),
		errors.Is(err, authority.ErrInitialized),
		errors.Is(err, authority.ErrNoServers),
		errors.Is(err, errNoPassphrase),
		errors.Is(err, store.ErrExists),
		errors.Is(err, authority.ErrTokenExists),
		errors.Is(err, authority.ErrUnauthorized),
		errors.Is(err, authority.ErrNoMail),
		errors.Is(err, authority.ErrNoEmail),
		errors.Is(err, authority.ErrNoAdmin),
		errors.Is(err, authority.ErrFilesChanged),
		errors.Is(err, authority.ErrLastServer),
		errors.As(err, new(easyrsa.ProblemsError)):
		return exitUsage
	case errors.Is(err, errCanceled):
		return exitCanceled
	}
	return exitFailure
}

var errCanceled = errors.New("canceled")
