// Package roster parses the CSV rosters behind `vpnkeys import users` and
// the web upload: a header naming the columns user, email, name, os, lang,
// groups (any order, only user required; several groups in one cell are
// separated by ';' or '|'), UTF-8, with or without a BOM, CRLF or LF,
// at most 64 MiB and 100,000 rows.
// Every refused row is reported with its line and reason; the good rows are
// returned apart, so a caller can keep them or refuse the whole file.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
)

// Bounds of a roster. A larger file is refused whole, never cut: a cut
// would end mid-row and onboard whatever half a row still parses as.
const (
	MaxRows  = 100_000
	MaxBytes = 64 << 20
)

// Row is one accepted line.
type Row struct {
	Line  int
	User  string
	Email string
	Name  string
	OS    string // "" when the cell was empty
	Lang  string // "" when the cell was empty
	// Groups lists the groups of the groups cell, each checked with
	// access.ValidGroupName; nil when the cell was empty.
	Groups []string
}

// RowError is one refused line.
type RowError struct {
	Line int
	User string
	Err  error
}

func (e RowError) Error() string {
	if e.User != "" {
		return fmt.Sprintf("line %d: user %q: %v", e.Line, e.User, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e RowError) Unwrap() error { return e.Err }

// ErrFile wraps problems with the file as a whole.
var ErrFile = errors.New("roster")

var columns = []string{"user", "email", "name", "os", "lang", "groups"}

// Parse reads a roster. A problem with the file as a whole (no header, no
// user column, an unknown column, not UTF-8, too many rows or bytes) returns an
// error and no rows.
func Parse(r io.Reader) ([]Row, []RowError, error) { return parse(r, MaxBytes) }

// parse is Parse with the byte limit given, so a test can reach it cheaply.
func parse(r io.Reader, maxBytes int) ([]Row, []RowError, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading: %v", ErrFile, err)
	}
	if len(data) > maxBytes {
		return nil, nil, fmt.Errorf("%w: larger than %s, the limit; split it into smaller files", ErrFile, byteSize(maxBytes))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, fmt.Errorf("%w: not UTF-8 text", ErrFile)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data) // delimiter.go: ';' from European spreadsheets
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%w: empty file: want a header line such as user,email,name,os,lang", ErrFile)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrFile, err)
	}
	idx, err := headerIndex(header)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	var bad []RowError
	first := map[string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{Line: pe.StartLine, Err: pe.Err})
				continue
			}
			return nil, nil, fmt.Errorf("%w: %v", ErrFile, err)
		}
		line, _ := cr.FieldPos(0)
		if n >= MaxRows {
			return nil, nil, fmt.Errorf("%w: more than %d rows", ErrFile, MaxRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(header) > 1 {
			continue
		}
		if len(rec) != len(header) {
			bad = append(bad, RowError{Line: line, Err: fmt.Errorf("%d fields, want %d like the header", len(rec), len(header))})
			continue
		}
		cell := func(c string) string {
			if i, ok := idx[c]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := Row{Line: line, User: cell("user"), Email: cell("email"), Name: cell("name"), OS: cell("os"), Lang: cell("lang")}
		err = check(&row)
		if err == nil {
			row.Groups, err = splitGroups(cell("groups"))
		}
		if err != nil {
			bad = append(bad, RowError{Line: line, User: row.User, Err: err})
			continue
		}
		if l, dup := first[row.User]; dup {
			bad = append(bad, RowError{Line: line, User: row.User, Err: fmt.Errorf("%w: already on line %d", account.ErrInvalid, l)})
			continue
		}
		first[row.User] = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// headerIndex maps each known column of the header line to its position,
// refusing an unknown or repeated column and a header without user.
func headerIndex(header []string) (map[string]int, error) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(columns, h) {
			return nil, fmt.Errorf("%w: line 1: unknown column %q: use user, email, name, os, lang, groups", ErrFile, h)
		}
		if _, dup := idx[h]; dup {
			return nil, fmt.Errorf("%w: line 1: column %q twice", ErrFile, h)
		}
		idx[h] = i
	}
	if _, ok := idx["user"]; !ok {
		return nil, fmt.Errorf("%w: line 1: no user column (the header must name it)", ErrFile)
	}
	return idx, nil
}

func check(r *Row) error {
	if err := account.ValidName(r.User); err != nil {
		return err
	}
	if err := account.ValidEmail(r.Email); err != nil {
		return err
	}
	if err := account.ValidFullName(r.Name); err != nil {
		return err
	}
	if r.OS != "" {
		os, err := account.ParseOS(r.OS, "")
		if err != nil {
			return err
		}
		r.OS = string(os)
	}
	if r.Lang != "" {
		l, err := account.ParseLang(r.Lang, "")
		if err != nil {
			return err
		}
		r.Lang = string(l)
	}
	return nil
}

// byteSize spells n in the largest unit that divides it.
func byteSize(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// splitGroups splits a groups cell on ';' and '|' (a roster delimited by
// ';' quotes the cell or uses '|'), dropping blanks and repeats.
func splitGroups(cell string) ([]string, error) {
	var out []string
	for _, g := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == '|' }) {
		g = strings.TrimSpace(g)
		if g == "" || slices.Contains(out, g) {
			continue
		}
		if err := access.ValidGroupName(g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}
