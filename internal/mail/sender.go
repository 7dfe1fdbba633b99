package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one mail.
type Message struct {
	To          string
	Subject     string
	Text        string
	Attachments []Attachment
}

// Sender sends mail with one configuration.
type Sender struct {
	cfg  Config
	tls  *tls.Config
	log  *slog.Logger
	wait func(ctx context.Context, d time.Duration) error
}

// NewSender checks cfg and prepares its TLS settings.
func NewSender(cfg Config, log *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.RootCAFile != "" {
		pem, err := os.ReadFile(cfg.RootCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading smtp.root_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp.root_ca_file %s holds no certificate", cfg.RootCAFile)
		}
		tc.RootCAs = pool
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, tls: tc, log: log, wait: sleep}, nil
}

// Admin is the configured admin address.
func (s *Sender) Admin() string { return s.cfg.Admin }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Send delivers m, retrying transient failures (connection errors, 4xx
// replies) with exponential backoff up to cfg.Retries attempts, never
// permanent ones (5xx replies, failed authentication).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	delay := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err = s.send(ctx, msg)
		if err == nil {
			s.log.Info("mail sent", "to", m.To, "attempt", attempt)
			return nil
		}
		perm := permanent(err)
		err = s.redact(err)
		if perm || attempt >= s.cfg.Retries || ctx.Err() != nil {
			return fmt.Errorf("sending mail to %s (attempt %d): %w", m.To, attempt, err)
		}
		s.log.Warn("mail failed, retrying", "to", m.To, "attempt", attempt, "in", delay, "err", err)
		if werr := s.wait(ctx, delay); werr != nil {
			return fmt.Errorf("sending mail to %s: %w (last error: %v)", m.To, werr, err)
		}
		delay *= 2
	}
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	for _, a := range m.Attachments {
		var opts []gomail.FileOption
		if a.ContentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), opts...)
	}
	return msg, nil
}

func (s *Sender) send(ctx context.Context, msg *gomail.Msg) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// client is a go-mail client for the configuration.
func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithTLSConfig(s.tls),
	}
	switch s.cfg.TLS {
	case Implicit:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(string(s.cfg.Password)))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring SMTP client: %w", err)
	}
	return c, nil
}

// redact keeps the password out of an error's text.
func (s *Sender) redact(err error) error {
	if s.cfg.Password == "" || !strings.Contains(err.Error(), string(s.cfg.Password)) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), string(s.cfg.Password), redacted))
}

// permanent tells a failure that retrying cannot fix: a 5xx reply or a
// refused login.
func permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp()
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 500
	}
	s := err.Error()
	for _, code := range []string{" 535", " 534", " 530", " 550", " 553", " 554", "authentication failed", "x509:", "certificate"} {
		if strings.Contains(s, code) {
			return true
		}
	}
	return false
}
