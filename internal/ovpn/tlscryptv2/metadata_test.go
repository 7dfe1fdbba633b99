package tlscryptv2

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSerialMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		err            error
	}{
		{"ok/uppercase even", "0A1B2C", "serial=0A1B2C", nil},
		{"ok/lowercase", "ab01", "serial=AB01", nil},
		{"ok/odd length padded", "ABC", "serial=0ABC", nil},
		{"ok/20 bytes", strings.Repeat("7F", 20), "serial=" + strings.Repeat("7F", 20), nil},
		{"fail/empty", "", "", ErrMetadata},
		{"fail/21 bytes", strings.Repeat("7F", 21), "", ErrMetadata},
		{"fail/not hex", "0x1B", "", ErrMetadata},
		{"fail/space", "0A 1B", "", ErrMetadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := SerialMetadata(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if m.Type != MetadataUser || string(m.Data) != tc.want {
				t.Fatalf("got %d %q, want 0 %q", m.Type, m.Data, tc.want)
			}
			back, err := ParseSerialMetadata(m)
			if err != nil || "serial="+back != tc.want {
				t.Fatalf("ParseSerialMetadata: got %q, %v, want %q", back, err, tc.want)
			}
		})
	}
}

func TestParseSerialMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Metadata
		want string
		err  error
	}{
		{"ok/canonical", Metadata{Data: []byte("serial=0A1B")}, "0A1B", nil},
		{"ok/lowercase from openvpn --genkey", Metadata{Data: []byte("serial=a1b")}, "0A1B", nil},
		{"fail/timestamp", TimestampMetadata(time.Unix(1, 0)), "", ErrMetadata},
		{"fail/other user data", Metadata{Data: []byte("user=alice")}, "", ErrMetadata},
		{"fail/trailing newline", Metadata{Data: []byte("serial=0A1B\n")}, "", ErrMetadata},
		{"fail/no serial", Metadata{Data: []byte("serial=")}, "", ErrMetadata},
		{"fail/empty", Metadata{}, "", ErrMetadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSerialMetadata(tc.m)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("got %q, %v, want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestTimestampMetadata(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	m := TimestampMetadata(at)
	got, err := m.Timestamp()
	if err != nil || !got.Equal(at) {
		t.Fatalf("got %v, %v, want %v", got, err, at)
	}
	if _, err := (Metadata{Data: m.Data}).Timestamp(); !errors.Is(err, ErrMetadata) {
		t.Fatalf("user data: got %v, want ErrMetadata", err)
	}
}

func TestVerifyMetadata(t *testing.T) {
	revoked := func(serial string) bool { return serial == "DEAD" }
	for _, tc := range []struct {
		name, typ, data string
		err             error
	}{
		{"ok/valid serial", "0", "serial=0A1B", nil},
		{"ok/lowercase serial", "0", "serial=0a1b", nil},
		{"fail/revoked serial", "0", "serial=DEAD", ErrRevoked},
		{"fail/revoked serial in lowercase", "0", "serial=dead", ErrRevoked},
		{"fail/timestamp key", "1", "\x00\x00\x00\x00\x6b\x49\xd2\x00", ErrMetadata},
		{"fail/foreign user data", "0", "alice", ErrMetadata},
		{"fail/empty", "0", "", ErrMetadata},
		{"fail/no type", "", "serial=0A1B", ErrMetadata},
		{"fail/type out of range", "256", "serial=0A1B", ErrMetadata},
		{"fail/type not a number", "user", "serial=0A1B", ErrMetadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyMetadata(tc.typ, []byte(tc.data), revoked)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
}

func FuzzVerifyMetadata(f *testing.F) {
	f.Add("0", []byte("serial=0A1B"))
	f.Add("1", []byte("\x00\x00\x00\x00\x6b\x49\xd2\x00"))
	canonical := regexp.MustCompile(`^([0-9A-F]{2}){1,20}$`)
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		var asked string
		err := VerifyMetadata(typ, data, func(s string) bool { asked = s; return false })
		if err != nil {
			return
		}
		if !strings.HasPrefix(string(data), serialPrefix) || !canonical.MatchString(asked) {
			t.Fatalf("accepted type %q data %q, asking about serial %q", typ, data, asked)
		}
	})
}
