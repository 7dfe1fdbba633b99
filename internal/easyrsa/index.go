package easyrsa

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// Entry is one row of index.txt.
type Entry struct {
	Line      int // 1-based
	Status    byte
	Expiry    time.Time
	RevokedAt time.Time // zero unless Status is 'R'
	Reason    string    // revocation reason as written, "" if none
	Serial    string    // uppercase hex
	Subject   string    // e.g. "/CN=alice"
	CN        string
}

// ParseIndex reads openssl ca's index.txt: tab-separated status, expiry,
// revocation date[,reason], serial, file name ("unknown") and subject.
func ParseIndex(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, err := parseRow(line)
		if err != nil {
			return nil, fmt.Errorf("index.txt:%d: %w", n, err)
		}
		e.Line = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading index.txt: %w", err)
	}
	return out, nil
}

func parseRow(line string) (Entry, error) {
	f := strings.Split(line, "\t")
	if len(f) != 6 {
		return Entry{}, fmt.Errorf("want 6 tab-separated fields, got %d", len(f))
	}
	var e Entry
	switch f[0] {
	case "V", "R", "E":
		e.Status = f[0][0]
	default:
		return Entry{}, fmt.Errorf("status %q: want V, R or E", f[0])
	}
	var err error
	if e.Expiry, err = parseTime(f[1]); err != nil {
		return Entry{}, fmt.Errorf("expiry: %w", err)
	}
	if e.Status == 'R' {
		date, reason, _ := strings.Cut(f[2], ",")
		if e.RevokedAt, err = parseTime(date); err != nil {
			return Entry{}, fmt.Errorf("revocation date: %w", err)
		}
		e.Reason = reason
	} else if f[2] != "" {
		return Entry{}, fmt.Errorf("a revocation date on a %c row", e.Status)
	}
	e.Serial = strings.ToUpper(f[3])
	if e.Serial == "" || strings.Trim(e.Serial, "0123456789ABCDEF") != "" {
		return Entry{}, fmt.Errorf("serial %q is not hex", f[3])
	}
	e.Subject = f[5]
	for _, part := range strings.Split(f[5], "/") {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			e.CN = v
		}
	}
	if e.CN == "" {
		return Entry{}, fmt.Errorf("subject %q has no CN", f[5])
	}
	return e, nil
}

// openssl writes UTCTime (YYMMDDHHMMSSZ) before 2050 and GeneralizedTime after.
func parseTime(s string) (time.Time, error) {
	layout := "060102150405Z"
	if len(s) == 15 {
		layout = "20060102150405Z"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an openssl date", s)
	}
	return t, nil
}

func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Year() >= 2050 {
		return t.Format("20060102150405Z")
	}
	return t.Format("060102150405Z")
}

// FormatIndex writes entries in index.txt's format.
func FormatIndex(entries []Entry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		rev := ""
		if e.Status == 'R' {
			rev = formatTime(e.RevokedAt)
			if e.Reason != "" {
				rev += "," + e.Reason
			}
		}
		subject := e.Subject
		if subject == "" {
			subject = "/CN=" + e.CN
		}
		fmt.Fprintf(&b, "%c\t%s\t%s\t%s\tunknown\t%s\n", e.Status, formatTime(e.Expiry), rev, e.Serial, subject)
	}
	return b.Bytes()
}
