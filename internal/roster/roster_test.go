package roster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
)

func parseFile(t *testing.T, name string) ([]Row, []RowError) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, bad, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return rows, bad
}

func TestBOMAndCRLF(t *testing.T) {
	rows, bad := parseFile(t, "bom_crlf.csv")
	if len(bad) != 0 || len(rows) != 2 {
		t.Fatalf("got %d rows, %v", len(rows), bad)
	}
	if r := rows[0]; r.User != "alice" || r.Name != "Martin, Alice" || r.OS != "macos" || r.Lang != "fr" || r.Line != 2 {
		t.Fatalf("row 1: %+v", r)
	}
	if r := rows[1]; r.Name != `Bob "the builder"` || r.Email != "" || r.Lang != "" || r.Line != 3 {
		t.Fatalf("row 2: %+v", r)
	}
}

func TestBadRows(t *testing.T) {
	rows, bad := parseFile(t, "bad.csv")
	var users []string
	for _, r := range rows {
		users = append(users, r.User)
	}
	if strings.Join(users, ",") != "carol,gina" {
		t.Fatalf("accepted %v, want carol and gina", users)
	}
	want := map[int]string{3: "name", 4: "email", 5: "already on line 2", 6: "language", 7: "name", 8: "name", 9: "name", 11: "fields"}
	if len(bad) != len(want) {
		t.Fatalf("got %d refused rows, want %d: %v", len(bad), len(want), bad)
	}
	for _, b := range bad {
		if !strings.Contains(b.Error(), want[b.Line]) || !strings.HasPrefix(b.Error(), fmt.Sprintf("line %d:", b.Line)) {
			t.Errorf("line %d: got %q, want it to mention %q", b.Line, b.Error(), want[b.Line])
		}
	}
}

func TestRoster50(t *testing.T) {
	rows, bad := parseFile(t, "roster50.csv")
	if len(rows) != 47 || len(bad) != 3 {
		t.Fatalf("got %d good and %d bad rows, want 47 and 3", len(rows), len(bad))
	}
	lines := []int{bad[0].Line, bad[1].Line, bad[2].Line}
	if fmt.Sprint(lines) != "[12 27 42]" {
		t.Fatalf("bad lines: got %v, want [12 27 42]", lines)
	}
}

func TestFileErrors(t *testing.T) {
	tests := map[string]string{
		"fail/empty":          "",
		"fail/no user column": "email,name\na@b.c,A\n",
		"fail/unknown column": "user,phone\nalice,123\n",
		"fail/twice":          "user,user\nalice,bob\n",
		"fail/not utf8":       "user\n\xff\xfe\n",
	}
	for name, in := range tests {
		if _, _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrFile) {
			t.Errorf("%s: got %v, want ErrFile", name, err)
		}
	}
	rows, bad, err := Parse(strings.NewReader("name,user\n\n\"Ann\",ann\n\n"))
	if err != nil || len(rows) != 1 || len(bad) != 0 || rows[0].Line != 3 {
		t.Fatalf("ok/columns in another order and blank lines: %+v %v %v", rows, bad, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"bom_crlf.csv", "bad.csv", "roster50.csv"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Add([]byte("user\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, bad, err := Parse(bytes.NewReader(b))
		if err != nil && (rows != nil || bad != nil) {
			t.Fatal("file error with rows")
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if account.ValidName(r.User) != nil || account.ValidFullName(r.Name) != nil || account.ValidEmail(r.Email) != nil || r.Line < 2 || seen[r.User] {
				t.Fatalf("accepted %+v", r)
			}
			seen[r.User] = true
			for _, g := range r.Groups {
				if access.ValidGroupName(g) != nil {
					t.Fatalf("accepted group %q in %+v", g, r)
				}
			}
		}
		for _, e := range bad {
			if e.Line < 1 {
				t.Fatalf("refused row without a line: %v", e)
			}
		}
	})
}

func BenchmarkParse10000(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("user,email,name,os,lang\n")
	for i := range 10000 {
		fmt.Fprintf(&buf, "user%05d,user%05d@example.com,\"Employee %d\",linux,en\n", i, i, i)
	}
	b.ResetTimer()
	for b.Loop() {
		rows, _, err := Parse(bytes.NewReader(buf.Bytes()))
		if err != nil || len(rows) != 10000 {
			b.Fatal(err)
		}
	}
}

// sized is a roster of exactly n bytes: a header, lines of blanks (skipped),
// and a last row "alicex,Alice" without a newline, so a reader that cuts the
// file one byte short would see user "alice" instead.
func sized(n int) io.Reader {
	const header, tail = "user,name\n", "alicex,Alice"
	blank := strings.Repeat(" ", 1023) + "\n"
	pad := n - len(header) - len(tail)
	lines := strings.NewReader(strings.Repeat(blank, pad/len(blank)+1))
	return io.MultiReader(strings.NewReader(header), io.LimitReader(lines, int64(pad)), strings.NewReader(tail))
}

// TestSizeLimit: a roster over the limit is refused whole, never cut at the
// limit with its last row half-read; one exactly at the limit is read whole.
// It runs on a 64 KiB limit: 64 MiB under -race takes most of a minute.
func TestSizeLimit(t *testing.T) {
	const limit = 64 << 10
	t.Run("fail/one byte over", func(t *testing.T) {
		rows, bad, err := parse(sized(limit+1), limit)
		if !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), "larger than 64 KiB") {
			t.Fatalf("got %v, want ErrFile naming the 64 KiB limit", err)
		}
		if rows != nil || bad != nil {
			t.Fatalf("got %d rows and %d refused, want none", len(rows), len(bad))
		}
	})
	t.Run("ok/exactly at the limit", func(t *testing.T) {
		rows, bad, err := parse(sized(limit), limit)
		if err != nil || len(bad) != 0 || len(rows) != 1 {
			t.Fatalf("got %d rows, %v, %v; want 1 row", len(rows), bad, err)
		}
		if r := rows[0]; r.User != "alicex" || r.Name != "Alice" {
			t.Fatalf("got %+v, want alicex", r)
		}
	})
}

// TestTextRule: a row's name and email pass the one account rule, so a
// roster refuses what add --name and the API refuse, with the same words.
func TestTextRule(t *testing.T) {
	in := "user,email,name\nann,,Ann \u202Egpj.exe\nbob,,Bob\u0085Smith\ncarol,c\u2066@example.com,Carol\ndave,,דוד\u200F\n"
	rows, bad, err := Parse(strings.NewReader(in))
	if err != nil || len(rows) != 1 || rows[0].User != "dave" {
		t.Fatalf("got %+v, %v; want dave alone", rows, err)
	}
	want := []string{
		`line 2: user "ann": invalid input: full name: contains a bidi override (U+202E)`,
		`line 3: user "bob": invalid input: full name: contains a control character (U+0085)`,
		`line 4: user "carol": invalid input: email: contains a bidi isolate (U+2066)`,
	}
	if len(bad) != len(want) {
		t.Fatalf("got %d refused rows, want %d: %v", len(bad), len(want), bad)
	}
	for i, b := range bad {
		if b.Error() != want[i] {
			t.Errorf("got %q, want %q", b.Error(), want[i])
		}
	}
}
