package mgmt

import (
	"errors"
	"fmt"
)

// Errors a caller may test with errors.Is.
var (
	// ErrCommand is wrapped by every "ERROR: ..." reply (see CommandError).
	ErrCommand = errors.New("management command refused")
	// ErrNotFound is also wrapped when the session or common name to kill
	// is not (or no longer) connected.
	ErrNotFound = errors.New("no such client")
	// ErrClosed is returned by commands on a closed connection, and fails
	// the command in flight when the connection drops.
	ErrClosed = errors.New("management connection closed")
	// ErrTimeout is wrapped (with context.DeadlineExceeded) when a
	// command's or Dial's deadline passes.
	ErrTimeout = errors.New("management interface did not answer in time")
	// ErrNoBanner is returned by Dial when OpenVPN sent no banner before
	// the deadline, most often because another management client is
	// attached (OpenVPN serves one at a time).
	ErrNoBanner = errors.New("no management banner (is another management client attached?)")
	// ErrPasswordRequired is returned by Dial when OpenVPN asks for a
	// password and none was given.
	ErrPasswordRequired = errors.New("management interface wants a password")
	// ErrBadPassword is returned by Dial when OpenVPN refuses the password.
	ErrBadPassword = errors.New("management password refused")
	// ErrInvalid is returned, before anything is sent, for an argument that
	// could not be sent safely (a control character, a quote where none
	// may be, a message that is neither HALT nor RESTART).
	ErrInvalid = errors.New("invalid management argument")
	// ErrMalformed is returned when OpenVPN's output cannot be parsed.
	ErrMalformed = errors.New("malformed management output")
)

// CommandError is an "ERROR: ..." reply. Text is OpenVPN's message,
// without the "ERROR: " prefix.
type CommandError struct {
	Command string // the command's first word, never its arguments
	Text    string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("management command %s: %s", e.Command, e.Text)
}

// Is makes errors.Is(err, ErrCommand) true.
func (e *CommandError) Is(target error) bool { return target == ErrCommand }

func isCommandError(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce)
}
