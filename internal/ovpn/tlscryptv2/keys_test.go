package tlscryptv2

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func newServerKey(t testing.TB) ServerKey {
	t.Helper()
	k, err := NewServerKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestServerKeyPEM(t *testing.T) {
	k := newServerKey(t)
	pemKey := k.MarshalPEM()
	if !bytes.HasPrefix(pemKey, []byte("-----BEGIN OpenVPN tls-crypt-v2 server key-----\n")) {
		t.Fatalf("got %q, want OpenVPN's server key block", pemKey)
	}
	wrongType := pem.EncodeToMemory(&pem.Block{Type: pemClientKey, Bytes: k.raw[:]})
	short := pem.EncodeToMemory(&pem.Block{Type: pemServerKey, Bytes: k.raw[:100]})
	headers := pem.EncodeToMemory(&pem.Block{Type: pemServerKey, Headers: map[string]string{"a": "b"}, Bytes: k.raw[:]})
	for _, tc := range []struct {
		name string
		in   []byte
		err  error
	}{
		{"ok/own output", pemKey, nil},
		{"ok/comments around the block", append([]byte("# server key\n"), append(pemKey, "# end\n"...)...), nil},
		{"fail/empty", nil, ErrInvalidKey},
		{"fail/client key block", wrongType, ErrInvalidKey},
		{"fail/100 bytes", short, ErrInvalidKey},
		{"fail/PEM headers", headers, ErrInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseServerKey(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if err == nil && got.raw != k.raw {
				t.Fatal("got another key, want the marshalled one")
			}
		})
	}
}

func TestServerKeyRedacted(t *testing.T) {
	k := newServerKey(t)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "key", k)
	out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k) + logged.String()
	body := strings.Split(string(k.MarshalPEM()), "\n")[1]
	if strings.Contains(out, body[:16]) || strings.Contains(out, fmt.Sprint(k.raw[0:4])) {
		t.Fatalf("got %q, want no key material", out)
	}
	if !strings.Contains(logged.String(), "key=[redacted]") {
		t.Fatalf("got %q, want key=[redacted]", logged.String())
	}
}

func TestNewClientKey(t *testing.T) {
	k := newServerKey(t)
	serial, _ := SerialMetadata("0A1B")
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		m    Metadata
		err  error
	}{
		{"ok/serial", serial, nil},
		{"ok/empty user data", Metadata{}, nil},
		{"ok/733 bytes", Metadata{Data: bytes.Repeat([]byte{0xff}, MaxMetadataLen)}, nil},
		{"ok/timestamp", TimestampMetadata(now), nil},
		{"fail/734 bytes", Metadata{Data: make([]byte, MaxMetadataLen+1)}, ErrMetadata},
		{"fail/unknown type", Metadata{Type: 2}, ErrMetadata},
		{"fail/timestamp of 4 bytes", Metadata{Type: MetadataTimestamp, Data: make([]byte, 4)}, ErrMetadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := k.NewClientKey(tc.m)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			kc, m, err := k.Unwrap(ck)
			if err != nil {
				t.Fatalf("Unwrap: %v", err)
			}
			b, _ := pem.Decode(ck)
			if !bytes.Equal(kc, b.Bytes[:ClientKeySize]) {
				t.Error("got another Kc, want the key's own")
			}
			if wantLen := ClientKeySize + tagSize + ClientKeySize + 1 + len(tc.m.Data) + lenSize; len(b.Bytes) != wantLen {
				t.Errorf("got %d bytes, want %d", len(b.Bytes), wantLen)
			}
			if m.Type != tc.m.Type || !bytes.Equal(m.Data, tc.m.Data) {
				t.Errorf("got metadata %d %q, want %d %q", m.Type, m.Data, tc.m.Type, tc.m.Data)
			}
		})
	}
	t.Run("fail/zero server key", func(t *testing.T) {
		if _, err := (ServerKey{}).NewClientKey(serial); err == nil {
			t.Fatal("got a client key from no server key")
		}
	})
}

// TestUnwrapOpenVPNKey is a known answer: keys made by OpenVPN 2.6.14
// (testdata/README).
func TestUnwrapOpenVPNKey(t *testing.T) {
	k, err := ParseServerKey(readFile(t, "testdata/openvpn-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	ck := readFile(t, "testdata/openvpn-client.key")
	kc, m, err := k.Unwrap(ck)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if s, err := ParseSerialMetadata(m); err != nil || s != "0A1B2C3D" {
		t.Errorf("got serial %q, %v, want 0A1B2C3D", s, err)
	}
	b, _ := pem.Decode(ck)
	if !bytes.Equal(kc, b.Bytes[:ClientKeySize]) {
		t.Error("got another Kc, want the key's own")
	}
}

// TestUnwrapTampered flips one byte in each part of a client key: Unwrap
// refuses every one.
func TestUnwrapTampered(t *testing.T) {
	k := newServerKey(t)
	m, _ := SerialMetadata("0A1B")
	ck, err := k.NewClientKey(m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(ck)
	n := len(b.Bytes)
	for _, tc := range []struct {
		name string
		at   int
	}{
		{"fail/Kc in clear", 7},
		{"fail/tag", ClientKeySize + 3},
		{"fail/wrapped Kc", ClientKeySize + tagSize + 10},
		{"fail/wrapped metadata type", ClientKeySize + tagSize + ClientKeySize},
		{"fail/wrapped metadata", n - lenSize - 1},
		{"fail/length", n - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Clone(b.Bytes)
			body[tc.at] ^= 0x01
			_, _, err := k.Unwrap(pem.EncodeToMemory(&pem.Block{Type: pemClientKey, Bytes: body}))
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("got %v, want ErrInvalidKey", err)
			}
		})
	}
	t.Run("fail/another server key", func(t *testing.T) {
		if _, _, err := newServerKey(t).Unwrap(ck); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("got %v, want ErrInvalidKey", err)
		}
	})
	t.Run("fail/truncated", func(t *testing.T) {
		short := pem.EncodeToMemory(&pem.Block{Type: pemClientKey, Bytes: b.Bytes[:n-40]})
		if _, _, err := k.Unwrap(short); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("got %v, want ErrInvalidKey", err)
		}
	})
	t.Run("fail/server key block", func(t *testing.T) {
		if _, _, err := k.Unwrap(k.MarshalPEM()); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("got %v, want ErrInvalidKey", err)
		}
	})
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzUnwrap(f *testing.F) {
	k, err := ParseServerKey(readFile(f, "testdata/openvpn-server.key"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(readFile(f, "testdata/openvpn-client.key"))
	f.Add(k.MarshalPEM())
	f.Fuzz(func(t *testing.T, in []byte) {
		kc, m, err := k.Unwrap(in)
		if err != nil {
			return
		}
		if len(kc) != ClientKeySize || len(m.Data) > MaxMetadataLen {
			t.Fatalf("got Kc of %d bytes and %d bytes of metadata", len(kc), len(m.Data))
		}
	})
}

func FuzzParseServerKey(f *testing.F) {
	f.Add(readFile(f, "testdata/openvpn-server.key"))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ParseServerKey(in)
		if err != nil {
			return
		}
		if again, err := ParseServerKey(k.MarshalPEM()); err != nil || again.raw != k.raw {
			t.Fatalf("round trip: %v", err)
		}
	})
}
