package roster

import (
	"strings"
	"testing"
)

// TestDelimiter: rosters saved by spreadsheets in European locales use ';'
// (with commas inside names), some exports use tabs; all parse the same.
func TestDelimiter(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"ok/comma", "user,email,name\nalice,alice@example.com,\"Martin, Alice\"\n"},
		{"ok/semicolon", "\xef\xbb\xbfuser;email;name\r\nalice;alice@example.com;Martin, Alice\r\n"},
		{"ok/semicolon quoted", "user;email;name\nalice;alice@example.com;\"Martin, Alice\"\n"},
		{"ok/tab", "user\temail\tname\nalice\talice@example.com\tMartin, Alice\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := Parse(strings.NewReader(tc.in))
			if err != nil || len(bad) != 0 || len(rows) != 1 {
				t.Fatalf("got %d rows, %v, %v; want one row", len(rows), bad, err)
			}
			if r := rows[0]; r.User != "alice" || r.Email != "alice@example.com" || r.Name != "Martin, Alice" {
				t.Fatalf("got %+v, want alice, alice@example.com, Martin, Alice", r)
			}
		})
	}
}
