package mail

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
)

// TestSendMany: several messages over one connection all arrive; one the
// server refuses for now (451) is sent again alone; a bad address fails
// alone; with the server down every message fails.
func TestSendMany(t *testing.T) {
	ctx := context.Background()
	msgs := func(n int) []Message {
		out := make([]Message, n)
		for i := range out {
			out[i] = Message{To: fmt.Sprintf("u%d@example.com", i), Subject: "s", Text: "t"}
		}
		return out
	}
	t.Run("ok/one connection", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		s, _ := NewSender(config(srv, false), nil)
		for i, err := range s.SendMany(ctx, msgs(5)) {
			if err != nil {
				t.Errorf("message %d: %v", i, err)
			}
		}
		if got := len(srv.Messages()); got != 5 {
			t.Errorf("got %d messages, want 5", got)
		}
	})
	t.Run("ok/transient failure sent again", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		srv.FailFirst = 1
		s, _ := NewSender(config(srv, false), nil)
		in := msgs(3)
		in[1].To = "not an address"
		errs := s.SendMany(ctx, in)
		if errs[0] != nil || errs[1] == nil || errs[2] != nil {
			t.Errorf("got %v, want only the bad address to fail", errs)
		}
		if got, att := len(srv.Messages()), srv.Attempts(); got != 2 || att != 3 {
			t.Errorf("got %d messages in %d attempts, want 2 in 3", got, att)
		}
	})
	t.Run("fail/server down", func(t *testing.T) {
		srv := smtptest.Start(t, false)
		c := config(srv, false)
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		c.Port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		c.Retries = 1
		s, _ := NewSender(c, nil)
		for i, err := range s.SendMany(ctx, msgs(3)) {
			if err == nil {
				t.Errorf("message %d: got nil, want an error", i)
			}
		}
	})
}
