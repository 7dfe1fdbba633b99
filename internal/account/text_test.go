package account

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidFullName(t *testing.T) {
	tests := []struct {
		name, in, want string // want: "" for accepted, else a part of the error
	}{
		{"ok/empty", "", ""},
		{"ok/ascii", "Ann Martin", ""},
		{"ok/accents", "José Müller-Lüdenscheidt", ""},
		{"ok/cyrillic", "Алиса Петрова", ""},
		{"ok/hebrew", "דוד כהן", ""},
		{"ok/arabic with ALM", "سارة\u061Cعلي", ""},
		{"ok/rtl mark", "דוד\u200F (IT)", ""},
		{"ok/zwj emoji", "Ann 👩\u200D💻", ""},
		{"ok/persian zwnj", "می\u200Cخواهم", ""},
		{"ok/at the limit", strings.Repeat("a", MaxFullNameLen), ""},
		{"ok/quotes and commas", `Martin, "Al" O'Neil`, ""},
		{"fail/too long", strings.Repeat("a", MaxFullNameLen+1), "at most 200"},
		{"fail/too long in runes", strings.Repeat("é", 101), "at most 200"},
		{"fail/invalid utf8", "Jos\xe9", "not valid UTF-8"},
		{"fail/lone continuation", "Ann \x80", "not valid UTF-8"},
		{"fail/truncated rune", "Ann \xc3", "not valid UTF-8"},
		{"fail/surrogate half", "Ann \xed\xa0\x80", "not valid UTF-8"},
		{"fail/overlong slash", "Ann \xc0\xaf", "not valid UTF-8"},
		{"fail/nul", "Ann\x00", "control character (U+0000)"},
		{"fail/newline", "Ann\nBcc: x", "control character (U+000A)"},
		{"fail/tab", "Ann\tM", "control character (U+0009)"},
		{"fail/escape", "Ann\x1b[31m", "control character (U+001B)"},
		{"fail/del", "Ann\x7f", "control character (U+007F)"},
		{"fail/c1 nel", "Ann\u0085M", "control character (U+0085)"},
		{"fail/c1 csi", "Ann\u009b31m", "control character (U+009B)"},
		{"fail/c1 first", "\u0080", "control character (U+0080)"},
		{"fail/c1 last", "\u009f", "control character (U+009F)"},
		{"fail/line separator", "Ann\u2028M", "line separator (U+2028)"},
		{"fail/paragraph separator", "Ann\u2029M", "line separator (U+2029)"},
		{"fail/lre", "\u202AAnn", "bidi embedding (U+202A)"},
		{"fail/rle", "\u202BAnn", "bidi embedding (U+202B)"},
		{"fail/pdf", "Ann\u202C", "bidi pop (U+202C)"},
		{"fail/lro", "\u202DAnn", "bidi override (U+202D)"},
		{"fail/rlo", "Ann \u202Egpj.exe", "bidi override (U+202E)"},
		{"fail/lri", "\u2066Ann", "bidi isolate (U+2066)"},
		{"fail/rli", "\u2067Ann", "bidi isolate (U+2067)"},
		{"fail/fsi", "\u2068Ann", "bidi isolate (U+2068)"},
		{"fail/pdi", "Ann\u2069", "bidi isolate (U+2069)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidFullName(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "full name: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid naming the full name and %q", err, tc.want)
			}
			if !utf8.ValidString(err.Error()) || strings.ContainsAny(err.Error(), "\n\u202E\u0085") {
				t.Fatalf("the message carries the refused text: %q", err)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok/empty", "", ""},
		{"ok/plain", "ann@example.com", ""},
		{"ok/idn", "ann@bücher.de", ""},
		{"fail/no at", "ann", "plain address"},
		{"fail/display name", "Ann <ann@example.com>", "plain address"},
		{"fail/header injection", "ann@example.com\nBcc: x@y", "control character (U+000A)"},
		{"fail/space", "a b@example.com", "plain address"},
		{"fail/invalid utf8", "\xff@example.com", "not valid UTF-8"},
		{"fail/c1 in local part", "a\u0085b@example.com", "control character (U+0085)"},
		{"fail/rlo in domain", "ann@exa\u202Eelpm.com", "bidi override (U+202E)"},
		{"fail/isolate", "\u2066ann@example.com", "bidi isolate (U+2066)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidEmail(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid naming the email and %q", err, tc.want)
			}
		})
	}
}

// refused reports whether r is one of the runes no accepted text may hold,
// written out apart from the code under test.
func refused(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

func FuzzFullName(f *testing.F) {
	for _, s := range []string{"Ann Martin", "José", "Jos\xe9", "a\u202Eb", "\u0085", "דוד\u200F", "\u2066x\u2069", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		errName, errMail := ValidFullName(s), ValidEmail(s)
		for _, err := range []error{errName, errMail} {
			if err != nil && (!errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n")) {
				t.Fatalf("%q: got %v, want one line wrapping ErrInvalid", s, err)
			}
		}
		if errName != nil && errMail != nil {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		if errName == nil && len(s) > MaxFullNameLen {
			t.Fatalf("accepted a %d-byte full name", len(s))
		}
		for _, r := range s {
			if refused(r) {
				t.Fatalf("accepted %q holding %U", s, r)
			}
		}
	})
}
