package authority

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

func sender(t *testing.T, s *smtptest.Server) *mail.Sender {
	t.Helper()
	m, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: s.Port, Username: s.User, Password: mail.Secret(s.Password),
		From: "vpn@example.com", Admin: "admin@example.com", RootCAFile: s.CAFile, Backoff: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSend(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "alice", Email: "alice@example.com", Lang: "es", OS: "macos"}, {Name: "bob"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t, false)
	m := sender(t, srv)

	res, err := f.a.Send(ctx, m, SendRequest{User: "alice"})
	if err != nil || res.To != "alice@example.com" || res.Link.URL == "" {
		t.Fatalf("send to user: %+v %v", res, err)
	}
	got := srv.Wait(t, 5*time.Second)
	if !strings.Contains(string(got.Data), "Tunnelblick") || strings.Contains(string(got.Data), "PRIVATE KEY") {
		t.Fatal("link mail lacks the macOS client, or carries a key")
	}
	if _, err := f.a.Send(ctx, m, SendRequest{User: "bob"}); !errors.Is(err, ErrNoEmail) {
		t.Fatalf("send to a user without email: got %v", err)
	}
	if _, err := f.a.Send(ctx, nil, SendRequest{User: "alice"}); !errors.Is(err, ErrNoMail) {
		t.Fatalf("send without mail: got %v", err)
	}
	if _, err := f.a.Send(ctx, m, SendRequest{User: "alice", Attach: true}); !errors.Is(err, pki.ErrInvalid) {
		t.Fatalf("attachment to the user: got %v", err)
	}

	// --to admin --attach: the key inside is encrypted, the passphrase is
	// returned and is not in the mail.
	res, err = f.a.Send(ctx, m, SendRequest{User: "bob", ToAdmin: true, Attach: true})
	if err != nil || res.To != "admin@example.com" || len(res.Passphrase) < 20 {
		t.Fatalf("send to admin: %+v %v", res, err)
	}
	got = srv.Wait(t, 5*time.Second)
	if strings.Contains(string(got.Data), res.Passphrase) {
		t.Fatal("the key's passphrase is in the mail")
	}
	zipData := attachment(t, got.Data)
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, "bob.key") {
			continue
		}
		rc, _ := zf.Open()
		key, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Contains(key, []byte("ENCRYPTED PRIVATE KEY")) {
			t.Fatalf("attached key is not encrypted:\n%s", key)
		}
		if _, err := pki.ParseKey(key, pki.Passphrase(res.Passphrase)); err != nil {
			t.Fatalf("attached key does not open with the passphrase: %v", err)
		}
	}

	// A mail that fails keeps its link and says so.
	srv.RejectRcpt = true
	res, err = f.a.Send(ctx, m, SendRequest{User: "alice"})
	if !errors.Is(err, ErrMailFailed) || res.Link.URL == "" {
		t.Fatalf("failed mail: %+v %v, want ErrMailFailed with the link", res, err)
	}
	if _, err := f.a.OpenLink(ctx, res.Link.Token); err != nil {
		t.Fatalf("the link of a failed mail does not work: %v", err)
	}
}

// attachment pulls the base64 zip out of a raw MIME message.
func attachment(t *testing.T, raw []byte) []byte {
	t.Helper()
	s := string(raw)
	i := strings.Index(s, "filename=\"bob.zip\"")
	if i < 0 {
		t.Fatalf("no bob.zip attachment:\n%s", s)
	}
	rest := s[i:]
	start := strings.Index(rest, "\r\n\r\n") + 4
	end := strings.Index(rest[start:], "\r\n--")
	return decodeB64(t, rest[start:start+end])
}
