package account

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFullNameLen is the longest full name accepted, in bytes.
const MaxFullNameLen = 200

// ValidFullName accepts a display name: valid UTF-8 of at most 200 bytes
// that passes the text rule of checkText. Every path that stores a full name
// (CLI, API, web form, roster) checks it here, so what one front end refuses
// no other lets in.
func ValidFullName(s string) error {
	if len(s) > MaxFullNameLen {
		return fmt.Errorf("%w: full name: %d bytes long, at most %d allowed", ErrInvalid, len(s), MaxFullNameLen)
	}
	return checkText("full name", s)
}

// ValidEmail accepts an empty address or one plain address (no display
// name) that passes the same text rule as a full name.
func ValidEmail(s string) error {
	if s == "" {
		return nil
	}
	if err := checkText("email", s); err != nil {
		return err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || strings.ContainsAny(s, " \r\n\t") {
		return fmt.Errorf("%w: email %q: want a plain address such as ann@example.com", ErrInvalid, s)
	}
	return nil
}

// checkText is the one rule for free text from outside: it must be valid
// UTF-8 (PostgreSQL refuses anything else, so a name SQLite took would
// break `db copy`), and hold no control character (C0, DEL, C1), no line or
// paragraph separator, and no bidi embedding, override or isolate control,
// which would reorder what an admin reads on a page or in a mail (the
// "Trojan Source" trick). The bidi marks U+200E, U+200F and U+061C stay
// allowed: they are invisible, reorder nothing beyond their neighbours, and
// right-to-left names copied from other systems carry them. The error names
// the field and the rule, and never echoes the text itself.
func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s: not valid UTF-8", ErrInvalid, field)
	}
	for _, r := range s {
		if what := refusedRune(r); what != "" {
			return fmt.Errorf("%w: %s: contains a %s (%U)", ErrInvalid, field, what, r)
		}
	}
	return nil
}

// refusedRune names the class of r when checkText refuses it, or "".
func refusedRune(r rune) string {
	switch {
	case unicode.IsControl(r): // U+0000-U+001F, U+007F, U+0080-U+009F
		return "control character"
	case r == '\u2028' || r == '\u2029':
		return "line separator"
	case r == '\u202A' || r == '\u202B':
		return "bidi embedding"
	case r == '\u202C':
		return "bidi pop"
	case r == '\u202D' || r == '\u202E':
		return "bidi override"
	case r >= '\u2066' && r <= '\u2069':
		return "bidi isolate"
	}
	return ""
}
