package authority

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Mailer sends one message; *mail.Sender is one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
	Admin() string
}

// Send errors. A missing mail setup is a Conflict, not Unavailable: the
// request cannot succeed until someone changes the configuration, and
// retrying later does not help (HTTP 409, as the API has always said).
var (
	ErrNoMail     = fault.New(fault.Conflict, "mail_not_configured", "mail is not configured: set [smtp] in the config file")
	ErrNoEmail    = fault.New(fault.Conflict, "no_email", "user has no email address")
	ErrNoAdmin    = fault.New(fault.Conflict, "no_admin", "no admin address: set smtp.admin in the config file")
	ErrMailFailed = fault.New(fault.Upstream, "mail_failed", "mail could not be delivered")
)

// SendRequest asks to send a user's access.
type SendRequest struct {
	User string
	// ToAdmin mails the admin instead of the employee, as the old workflow did.
	ToAdmin bool
	// Attach attaches the bundle (zip) to the admin's mail, its key
	// encrypted with a fresh passphrase returned in SendResult, never mailed.
	Attach  bool
	LinkTTL time.Duration
}

// SendResult tells what was sent. Link is set whenever a link was made,
// even if the mail then failed: a link is never lost.
type SendResult struct {
	To         string
	Link       Link
	Passphrase string // the attached key's passphrase, for the admin's eyes
}

// Send mails a one-time link to the employee (or to the admin), or, with
// Attach, the bundle with an encrypted key to the admin.
func (a *Authority) Send(ctx context.Context, m Mailer, r SendRequest) (SendResult, error) {
	if m == nil {
		return SendResult{}, ErrNoMail
	}
	if r.Attach && !r.ToAdmin {
		return SendResult{}, fmt.Errorf("%w: attachments go to the admin only", pki.ErrInvalid)
	}
	uc, err := a.db.Q().GetUser(ctx, r.User)
	if errors.Is(err, store.ErrNotFound) {
		return SendResult{}, fmt.Errorf("%w: %s", ErrUserNotFound, r.User)
	}
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{To: uc.Email}
	if r.ToAdmin {
		res.To = m.Admin()
		if res.To == "" {
			return res, ErrNoAdmin
		}
	} else if uc.Email == "" {
		return res, fmt.Errorf("%w: %s", ErrNoEmail, r.User)
	}
	td := mail.TextData{User: uc.Name, FullName: uc.FullName, OS: uc.OS, Company: a.opts.Company, Contact: a.opts.Contact}
	msg := mail.Message{To: res.To}
	kind := mail.LinkMail
	if r.Attach {
		kind = mail.AdminMail
		res.Passphrase = rand.Text()
		_, files, err := a.currentBundle(ctx, uc.Name, "", pki.Passphrase(res.Passphrase))
		if err != nil {
			return res, err
		}
		var zipped bytes.Buffer
		if err := bundle.Zip(&zipped, uc.Name, files, a.now()); err != nil {
			return res, err
		}
		msg.Attachments = []mail.Attachment{{Name: uc.Name + ".zip", ContentType: "application/zip", Data: zipped.Bytes()}}
	} else {
		if res.Link, err = a.CreateLink(ctx, uc.Name, r.LinkTTL); err != nil {
			return res, err
		}
		td.Link, td.LinkExpires = res.Link.URL, res.Link.ExpiresAt.Format("2006-01-02 15:04 MST")
	}
	if msg.Subject, msg.Text, err = mail.Render(kind, uc.Lang, td); err != nil {
		return res, err
	}
	start := a.now()
	sendErr := m.Send(ctx, msg)
	a.observe("mail", start, sendErr)
	action := "mail.sent"
	if sendErr != nil {
		action = "mail.failed"
	}
	if err := a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, action, uc.Name, map[string]any{"to": res.To, "attached": r.Attach})
	}); err != nil {
		return res, err
	}
	if sendErr != nil {
		return res, fmt.Errorf("%w: %w", ErrMailFailed, sendErr)
	}
	return res, nil
}
