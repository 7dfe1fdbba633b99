package fault_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

var (
	errMissing = fault.New(fault.NotFound, "not_found", "no such user")
	errRace    = fault.NewHidden(fault.Conflict, "conflict", "changed concurrently", "another change won; try again")
)

// problems is an error type of its own that joins the model.
type problems []string

func (p problems) Error() string  { return fmt.Sprintf("%d problems", len(p)) }
func (problems) Kind() fault.Kind { return fault.Invalid }
func (problems) Code() string     { return "invalid" }

func TestModel(t *testing.T) {
	driver := errors.New(`UNIQUE constraint failed: certificates.serial`)
	tests := []struct {
		name                string
		err                 error
		kind                fault.Kind
		code, text, message string
		is                  error
	}{
		{"ok/sentinel", errMissing, fault.NotFound, "not_found", "no such user", "no such user", errMissing},
		{"ok/detail wrapped around it is shown", fmt.Errorf("%w: alice", errMissing), fault.NotFound, "not_found",
			"no such user: alice", "no such user: alice", errMissing},
		{"ok/outer context keeps the kind", fmt.Errorf("renewing: %w", fmt.Errorf("%w: alice", errMissing)), fault.NotFound,
			"not_found", "renewing: no such user: alice", "renewing: no such user: alice", errMissing},
		{"ok/hidden sentinel shows its own words", fmt.Errorf("certificate 0A: %w", errRace), fault.Conflict, "conflict",
			"certificate 0A: changed concurrently", "another change won; try again", errRace},
		{"ok/With keeps the sentinel and hides the cause", errRace.With(driver), fault.Conflict, "conflict",
			"changed concurrently: UNIQUE constraint failed: certificates.serial", "another change won; try again", driver},
		{"ok/With on a public sentinel hides the cause", errMissing.With(fs.ErrNotExist), fault.NotFound, "not_found",
			"no such user: file does not exist", "no such user", errMissing},
		{"ok/Wrap hides the cause", fault.Wrap(fault.Upstream, "mail_failed", driver, "mail to %s failed", "ann"),
			fault.Upstream, "mail_failed", "mail to ann failed: UNIQUE constraint failed: certificates.serial", "mail to ann failed", driver},
		{"ok/outermost kind wins", fmt.Errorf("%w: %w", errMissing, errRace), fault.NotFound, "not_found",
			"no such user: changed concurrently", "no such user: changed concurrently", errRace},
		{"ok/own error type", fmt.Errorf("importing: %w", problems{"index.txt:3: bad date"}), fault.Invalid, "invalid",
			"importing: 1 problems", "importing: 1 problems", nil},
		{"fail/unclassified is internal", fmt.Errorf("reading /etc/secret: %w", fs.ErrPermission), fault.Internal, "internal",
			"reading /etc/secret: permission denied", fault.GenericMessage, fs.ErrPermission},
		{"fail/an Internal sentinel is never shown", fault.New(fault.Internal, "x", "SELECT 1"), fault.Internal, "internal",
			"SELECT 1", fault.GenericMessage, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fault.KindOf(tc.err); got != tc.kind {
				t.Errorf("KindOf: got %v, want %v", got, tc.kind)
			}
			if got := fault.CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf: got %q, want %q", got, tc.code)
			}
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("Error: got %q, want %q", got, tc.text)
			}
			if got := fault.Message(tc.err); got != tc.message {
				t.Errorf("Message: got %q, want %q", got, tc.message)
			}
			if tc.is != nil && !errors.Is(tc.err, tc.is) {
				t.Errorf("errors.Is(%v, %v): got false, want true", tc.err, tc.is)
			}
		})
	}
}

func TestNil(t *testing.T) {
	if got := fault.CodeOf(nil); got != "" {
		t.Errorf("CodeOf(nil): got %q, want \"\"", got)
	}
	if got := fault.KindOf(nil); got != fault.Internal {
		t.Errorf("KindOf(nil): got %v, want internal", got)
	}
}

func TestInstancesAreNotTheirSentinel(t *testing.T) {
	other := fault.New(fault.NotFound, "not_found", "no such user")
	if errors.Is(errMissing.With(nil), other) {
		t.Fatal("an instance matched a different sentinel with the same text")
	}
	if errors.Is(errMissing, other) {
		t.Fatal("two sentinels with the same text matched: identity must decide")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[fault.Kind]string{fault.Internal: "internal", fault.Invalid: "invalid", fault.NotFound: "not_found",
		fault.Conflict: "conflict", fault.Unauthorized: "unauthorized", fault.Unavailable: "unavailable",
		fault.Upstream: "upstream", fault.Kind(99): "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String(): got %q, want %q", int(k), got, want)
		}
	}
}
