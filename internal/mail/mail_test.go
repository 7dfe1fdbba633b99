package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
)

func config(s *smtptest.Server, implicit bool) Config {
	c := Config{Host: "127.0.0.1", Port: s.Port, Username: s.User, Password: Secret(s.Password), From: "vpn@example.com",
		Admin: "admin@example.com", TLS: StartTLS, RootCAFile: s.CAFile, Timeout: 5 * time.Second, Retries: 3, Backoff: 10 * time.Millisecond}
	if implicit {
		c.TLS = Implicit
	}
	return c
}

// parts decodes a received message: headers and each MIME part's body.
func parts(t *testing.T, raw []byte) (*mail.Message, map[string][]byte) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		b, _ := io.ReadAll(m.Body)
		out["body"] = b
		return m, out
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			b = decodeBase64(t, b)
		}
		name := p.FileName()
		if name == "" {
			name = "body"
		}
		out[name] = b
	}
	return m, out
}

func TestSend(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		name := "ok/starttls"
		if implicit {
			name = "ok/implicit"
		}
		t.Run(name, func(t *testing.T) {
			srv := smtptest.Start(t, implicit)
			s, err := NewSender(config(srv, implicit), nil)
			if err != nil {
				t.Fatal(err)
			}
			subject, body, err := Render(LinkMail, "fr", TextData{User: "alice", OS: "macos", Link: "https://vpn.example.com/l/x", LinkExpires: "2026-12-01 10:00 UTC"})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), Message{To: "alice@example.com", Subject: subject, Text: body,
				Attachments: []Attachment{{Name: "alice.zip", ContentType: "application/zip", Data: []byte("PK\x03\x04zipdata")}}})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 5*time.Second)
			m, ps := parts(t, got.Data)
			dec := new(mime.WordDecoder)
			subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
			if subj != subject || m.Header.Get("To") != "<alice@example.com>" || got.To[0] != "alice@example.com" {
				t.Fatalf("headers: subject %q to %q", subj, m.Header.Get("To"))
			}
			if !strings.Contains(string(ps["body"]), "https://vpn.example.com/l/x") || !strings.Contains(string(ps["body"]), "Tunnelblick") {
				t.Fatalf("body:\n%s", ps["body"])
			}
			if string(ps["alice.zip"]) != "PK\x03\x04zipdata" {
				t.Fatalf("attachment: got %q", ps["alice.zip"])
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	ctx := context.Background()
	msg := Message{To: "bob@example.com", Subject: "s", Text: "t"}
	t.Run("fail/wrong password", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		c := config(srv, false)
		c.Password = "wrong-pass-xyz"
		var logs bytes.Buffer
		s, _ := NewSender(c, slog.New(slog.NewJSONHandler(&logs, nil)))
		err := s.Send(ctx, msg)
		if err == nil || strings.Contains(err.Error(), "wrong-pass-xyz") || strings.Contains(logs.String(), "wrong-pass-xyz") {
			t.Fatalf("got %v (logs %s), want an error without the password", err, logs.String())
		}
		if !strings.Contains(err.Error(), "attempt 1") {
			t.Fatalf("auth failure retried: %v", err)
		}
	})
	t.Run("fail/recipient refused", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		srv.RejectRcpt = true
		s, _ := NewSender(config(srv, false), nil)
		if err := s.Send(ctx, msg); err == nil || !strings.Contains(err.Error(), "attempt 1") {
			t.Fatalf("got %v, want a permanent failure after one attempt", err)
		}
	})
	t.Run("ok/transient then success", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		srv.FailFirst = 1
		var logs bytes.Buffer
		s, _ := NewSender(config(srv, false), slog.New(slog.NewJSONHandler(&logs, nil)))
		if err := s.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if srv.Attempts() != 2 || len(srv.Messages()) != 1 {
			t.Fatalf("attempts %d, messages %d; want 2 and 1", srv.Attempts(), len(srv.Messages()))
		}
		if strings.Contains(logs.String(), srv.Password) {
			t.Fatal("the password reached the log")
		}
	})
	t.Run("fail/nothing listening", func(t *testing.T) {
		c := Config{Host: "127.0.0.1", Port: 1, From: "vpn@example.com", Retries: 3, Backoff: time.Millisecond, Timeout: time.Second}
		s, _ := NewSender(c, nil)
		waits := 0
		s.wait = func(context.Context, time.Duration) error { waits++; return nil }
		if err := s.Send(ctx, msg); err == nil || !strings.Contains(err.Error(), "attempt 3") || waits != 2 {
			t.Fatalf("got %v after %d waits, want failure at attempt 3 after 2 waits", err, waits)
		}
	})
	t.Run("fail/canceled", func(t *testing.T) {
		c := Config{Host: "127.0.0.1", Port: 1, From: "vpn@example.com", Retries: 10, Backoff: time.Hour}
		s, _ := NewSender(c, nil)
		cctx, cancel := context.WithCancel(ctx)
		waits := 0
		s.wait = func(c context.Context, d time.Duration) error { waits++; cancel(); return sleep(c, d) }
		if err := s.Send(cctx, msg); err == nil || !errors.Is(err, context.Canceled) || waits != 1 {
			t.Fatalf("got %v after %d waits, want context.Canceled after the first wait", err, waits)
		}
	})
}

func TestValidate(t *testing.T) {
	tests := map[string]Config{
		"fail/no host":      {From: "a@b.c"},
		"fail/no from":      {Host: "smtp.example.com"},
		"fail/bad from":     {Host: "smtp.example.com", From: "Vpn <a@b.c>"},
		"fail/none remote":  {Host: "smtp.example.com", From: "a@b.c", TLS: NoTLS},
		"fail/bad port":     {Host: "smtp.example.com", From: "a@b.c", Port: 70000},
		"fail/bad tls mode": {Host: "smtp.example.com", From: "a@b.c", TLS: "ssl"},
		"fail/bad admin":    {Host: "smtp.example.com", From: "a@b.c", Admin: "nope"},
	}
	for name, c := range tests {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
	ok := Config{Host: "smtp.example.com", From: "a@b.c", TLS: Implicit}
	if err := ok.Validate(); err != nil || ok.Port != 465 || ok.Retries != 3 {
		t.Fatalf("ok/defaults: %v %+v", err, ok)
	}
}

func TestRender(t *testing.T) {
	clients := map[string]string{"windows": "OpenVPN GUI", "macos": "Tunnelblick", "linux": "nmcli", "android": "Google Play", "ios": "App Store"}
	for _, lang := range []string{"en", "es", "fr", "de", "ru"} {
		for os, client := range clients {
			d := TextData{User: "alice", OS: os, Link: "https://x/l/tok", LinkExpires: "2026-12-01"}
			s, b, err := Render(LinkMail, lang, d)
			if err != nil || s == "" || strings.Contains(s, "\n") {
				t.Fatalf("%s/%s: subject %q %v", lang, os, s, err)
			}
			if strings.Contains(b, "<no value>") {
				t.Errorf("%s/%s link mail has an unfilled value", lang, os)
			}
			for _, want := range []string{"https://x/l/tok", "alice", client, "2026-12-01"} {
				if !strings.Contains(b, want) {
					t.Errorf("%s/%s link mail lacks %q", lang, os, want)
				}
			}
			if _, b, err := Render(AdminMail, lang, d); err != nil || !strings.Contains(b, "alice") || strings.Contains(b, "<no value>") {
				t.Errorf("%s/%s admin mail: %v\n%s", lang, os, err, b)
			}
		}
	}
	if _, b, _ := Render(LinkMail, "xx", TextData{User: "u", OS: "linux", Link: "L"}); !strings.Contains(b, "Hello") {
		t.Error("unknown language did not fall back to English")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	var b bytes.Buffer
	c := Config{Password: "hunter2"}
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "cfg", c, "pw", c.Password)
	if strings.Contains(b.String(), "hunter2") {
		t.Fatalf("log: %s", b.String())
	}
}
