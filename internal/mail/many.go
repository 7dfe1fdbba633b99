package mail

import (
	"context"

	gomail "github.com/wneessen/go-mail"
)

// SendMany delivers msgs over one SMTP connection, which costs one TLS
// handshake and one login for them all instead of one each (what makes a
// run of thousands of expiry warnings fast). A message the connection did
// not deliver is sent again alone with Send, which retries transient
// failures. If the server cannot be reached at all, the first message is
// tried with Send and, if that fails too, every message fails with its
// error: the caller tries again later. It returns each message's error, in
// the order of msgs.
func (s *Sender) SendMany(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	built := make([]*gomail.Msg, len(msgs))
	for i, m := range msgs {
		built[i], errs[i] = s.build(m)
	}
	c, err := s.client()
	if err != nil {
		return fill(errs, err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if len(msgs) == 0 {
			return errs
		}
		if errs[0] = s.Send(ctx, msgs[0]); errs[0] != nil {
			return fill(errs, errs[0])
		}
		return append(errs[:1], s.SendMany(ctx, msgs[1:])...)
	}
	var ok []*gomail.Msg
	for i, b := range built {
		if errs[i] == nil {
			ok = append(ok, b)
		}
	}
	_ = c.SendWithSMTPClient(sc, ok...) // each message keeps its own error
	if err := c.CloseWithSMTPClient(sc); err != nil {
		s.log.Warn("closing the SMTP connection", "err", s.redact(err))
	}
	for i, b := range built {
		switch {
		case errs[i] != nil:
		case b.HasSendError():
			errs[i] = s.Send(ctx, msgs[i])
		default:
			s.log.Info("mail sent", "to", msgs[i].To, "attempt", 1)
		}
	}
	return errs
}

// fill sets err on every message not failed already.
func fill(errs []error, err error) []error {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}
