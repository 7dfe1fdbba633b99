// Package fault is vpnkeys' error model: every error the service returns
// says what KIND of failure it is, with a stable CODE and a message that is
// safe to show, and all three are decided where the error is made.
//
// The model, in four rules:
//
//   - The package that owns a concept declares its sentinels with New
//     (store.ErrNotFound, authority.ErrUserNotFound, account.ErrInvalid) and
//     wraps them with fmt.Errorf("%w: ...") to add detail about the request.
//     errors.Is against a sentinel keeps working: a sentinel is a pointer.
//   - The kind is set there, once. Front ends never decide it: they read it
//     with KindOf and map only kinds, in one table each (the CLI to exit
//     codes, the web to HTTP statuses). An error with no kind is Internal.
//   - What a client may read is Message: the error's text when its kind is
//     public, unless the error was made to hide its detail (NewHidden, Wrap:
//     a lost race carries the database's words); an Internal error shows
//     only a generic text and its real text goes to the log. This is
//     tailscale's vizerror, with the safe text chosen by the error's maker.
//   - Hints that name a front end's own controls ("run vpnkeys init first",
//     "add one with --email") belong to that front end, keyed by Code; the
//     service's messages never quote a CLI command or flag, since an API
//     client reads them too.
//
// Codes are short snake_case words ("not_found", "exists", "locked") that
// the API puts in its JSON; they never change once published. Errors of
// one kind may share a code (every bad input is "invalid"; the message says
// what was wrong).
package fault

import (
	"errors"
	"fmt"
)

// Kind is what sort of failure an error is; the front ends map only this.
type Kind int

// The kinds. The zero Kind is Internal, so an error nobody classified is
// never shown.
const (
	// Internal is a failure the caller cannot fix (I/O, a bug, SQL): its
	// text is logged, never shown to a client.
	Internal Kind = iota
	// Invalid is bad input or usage: a malformed name, an unknown option.
	Invalid
	// NotFound names something that does not exist.
	NotFound
	// Conflict is a request at odds with the current state: the thing
	// exists already, is in the wrong state, or another change won a race.
	Conflict
	// Unauthorized is a missing or wrong credential.
	Unauthorized
	// Unavailable is a service not ready for the request: the CA is locked
	// or not initialised yet.
	Unavailable
	// Upstream is a failure of a system vpnkeys depends on, such as mail
	// delivery.
	Upstream
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "unauthorized", "unavailable", "upstream"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// GenericMessage is what a client reads of an Internal error.
const GenericMessage = "internal error"

// Classified is an error type that carries its own kind and code. *Error
// is one; a package with an error type of its own (a list of problems)
// implements it to join the model.
type Classified interface {
	error
	Kind() Kind
	Code() string
}

// Error is an error with a kind, a code and a message safe to show.
type Error struct {
	kind   Kind
	code   string
	msg    string
	shown  string // when set, what Message returns instead of the text
	cause  error  // detail for the log, never in Message
	parent *Error // the sentinel this error is an instance of
}

// New returns a sentinel: an error of kind with code whose text msg is
// safe to show, as is any detail wrapped around it with fmt.Errorf.
func New(kind Kind, code, msg string) *Error {
	return &Error{kind: kind, code: code, msg: msg}
}

// NewHidden returns a sentinel whose text (and anything around it, such as
// a driver's message) is for the log only: a client reads shown instead.
func NewHidden(kind Kind, code, msg, shown string) *Error {
	return &Error{kind: kind, code: code, msg: msg, shown: shown}
}

// Wrap returns an error of kind with code around cause: its text is the
// formatted message, then ": " and the cause's text; a client reads only
// the formatted message, never the cause. errors.Is and errors.As reach
// the cause.
func Wrap(kind Kind, code string, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{kind: kind, code: code, msg: msg, shown: msg, cause: cause}
}

// With returns an instance of the sentinel e around cause: it has e's
// kind, code and shown text, errors.Is(err, e) holds, and its text is e's
// text, ": " and the cause's. A client reads e's message, never the cause.
func (e *Error) With(cause error) error {
	shown := e.shown
	if shown == "" {
		shown = e.msg
	}
	return &Error{kind: e.kind, code: e.code, msg: e.msg, shown: shown, cause: cause, parent: e}
}

func (e *Error) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

// Kind returns the error's kind.
func (e *Error) Kind() Kind { return e.kind }

// Code returns the error's stable code.
func (e *Error) Code() string { return e.code }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is makes an instance made by With match its sentinel.
func (e *Error) Is(target error) bool { return e.parent != nil && e.parent == target }

// classified finds the outermost classified error in err's chain.
func classified(err error) (Classified, bool) {
	var c Classified
	if err == nil || !errors.As(err, &c) {
		return nil, false
	}
	return c, true
}

// KindOf returns the kind of the outermost classified error in err's
// chain, or Internal when there is none.
func KindOf(err error) Kind {
	if c, ok := classified(err); ok {
		return c.Kind()
	}
	return Internal
}

// CodeOf returns the code of the outermost classified error in err's
// chain, or "internal" when there is none. It returns "" for nil.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	if c, ok := classified(err); ok && c.Kind() != Internal {
		return c.Code()
	}
	return Internal.String()
}

// Message returns what a client may read of err: GenericMessage for an
// Internal error, the shown text of an error made to hide its detail, and
// otherwise err's whole text (a sentinel's words plus the detail the
// service wrapped around it about the request).
func Message(err error) string {
	c, ok := classified(err)
	if !ok || c.Kind() == Internal {
		return GenericMessage
	}
	if e, ok := c.(*Error); ok && e.shown != "" {
		return e.shown
	}
	return err.Error()
}
