package cli

import (
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/fault"
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
// the service's errors meet the shell. Bad usage and every error the
// service classifies as the caller's to fix (invalid, not found, conflict,
// unauthorized, unavailable) exit 2; the rest 1.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errCanceled):
		return exitCanceled
	}
	switch fault.KindOf(err) {
	case fault.Invalid, fault.NotFound, fault.Conflict, fault.Unauthorized, fault.Unavailable:
		return exitUsage
	}
	return exitFailure
}

var errCanceled = errors.New("canceled")
