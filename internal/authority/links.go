package authority

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Link errors, each shown to the employee as its own page.
var (
	ErrLinkUnknown = errors.New("unknown link")
	ErrLinkUsed    = errors.New("this link was already used")
	ErrLinkExpired = errors.New("this link has expired")
)

// DefaultLinkTTL is how long a one-time link stays valid.
const DefaultLinkTTL = 72 * time.Hour

const linkPrefix = "l_"

// Link is a freshly made one-time link. Token is the secret; it is not
// stored and appears only in the URL handed to the employee.
type Link struct {
	User      string
	Token     string
	URL       string
	ExpiresAt time.Time
}

// CreateLink makes a one-time link to the user's current bundle.
func (a *Authority) CreateLink(ctx context.Context, name string, ttl time.Duration) (Link, error) {
	if err := account.ValidName(name); err != nil {
		return Link{}, err
	}
	if ttl <= 0 {
		ttl = a.opts.LinkTTL
	}
	tok, err := newSecret(linkPrefix)
	if err != nil {
		return Link{}, err
	}
	now := a.now()
	l := Link{User: name, Token: tok, URL: strings.TrimRight(a.opts.PublicURL, "/") + "/l/" + tok, ExpiresAt: now.Add(ttl).UTC()}
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		uc, err := q.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		if err != nil {
			return err
		}
		if uc.Cert == nil || uc.Cert.State != store.StateActive {
			return fmt.Errorf("%w: %s", ErrNotActive, name)
		}
		if err := q.InsertLink(ctx, store.Link{TokenHash: hashSecret(tok), User: name, Serial: uc.Cert.Serial,
			CreatedAt: now.Unix(), ExpiresAt: l.ExpiresAt.Unix()}); err != nil {
			return err
		}
		return a.audit(ctx, q, "link.create", name, map[string]any{"expires": l.ExpiresAt})
	})
	return l, err
}

// LinkView is what the link page shows before the download.
type LinkView struct {
	User      string
	FullName  string
	OS        string
	Lang      string
	ExpiresAt time.Time
	Readme    string
}

// OpenLink checks a link without using it up and records the visit. A used,
// expired or unknown link gives its error (with the user's view when known,
// so the page can speak their language).
func (a *Authority) OpenLink(ctx context.Context, tok string) (LinkView, error) {
	l, err := a.link(ctx, tok)
	if err != nil {
		return LinkView{}, err
	}
	uc, err := a.db.Q().GetUser(ctx, l.User)
	if err != nil {
		return LinkView{}, err
	}
	v := LinkView{User: uc.Name, FullName: uc.FullName, OS: uc.OS, Lang: uc.Lang, ExpiresAt: time.Unix(l.ExpiresAt, 0).UTC()}
	now := a.now()
	switch {
	case l.UsedAt != 0:
		return v, ErrLinkUsed
	case l.ExpiresAt <= now.Unix():
		return v, ErrLinkExpired
	}
	if _, files, err := a.currentBundle(ctx, l.User, nil); err == nil {
		for _, f := range files {
			if f.Name == bundle.ReadmeName {
				v.Readme = string(f.Data)
			}
		}
	}
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.MarkLinkOpened(ctx, l.TokenHash, now.Unix()); err != nil {
			return err
		}
		return a.audit(ctx, q, "link.open", l.User, nil)
	})
	return v, err
}

func (a *Authority) link(ctx context.Context, tok string) (store.Link, error) {
	if !strings.HasPrefix(tok, linkPrefix) || len(tok) > 100 {
		return store.Link{}, ErrLinkUnknown
	}
	l, err := a.db.Q().GetLink(ctx, hashSecret(tok))
	if errors.Is(err, store.ErrNotFound) {
		return store.Link{}, ErrLinkUnknown
	}
	return l, err
}

// Download is what a redeemed link gives.
type Download struct {
	Name        string
	ContentType string
	Data        []byte
}

// RedeemLink uses the link up (exactly once, however many clicks race) and
// returns the user's profile, or the zip of the whole bundle when asZip.
// The download is rendered before the link is used up, so a link to access
// that was revoked meanwhile is refused without being spent.
func (a *Authority) RedeemLink(ctx context.Context, tok, from string, asZip bool) (Download, error) {
	start := a.now()
	l, err := a.link(ctx, tok)
	if err != nil {
		return Download{}, err
	}
	switch {
	case l.UsedAt != 0:
		return Download{}, ErrLinkUsed
	case l.ExpiresAt <= start.Unix():
		return Download{}, ErrLinkExpired
	}
	d, err := a.download(ctx, l.User, asZip)
	if err != nil {
		return Download{}, err
	}
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.RedeemLink(ctx, l.TokenHash, a.now().Unix(), from); err != nil {
			if errors.Is(err, store.ErrConflict) {
				if l.ExpiresAt <= a.now().Unix() {
					return ErrLinkExpired
				}
				return ErrLinkUsed
			}
			return err
		}
		return a.audit(ctx, q, "link.redeem", l.User, map[string]any{"zip": asZip})
	})
	a.observe("link.redeem", start, err)
	if err != nil {
		return Download{}, err
	}
	return d, nil
}

// download renders what a link hands out.
func (a *Authority) download(ctx context.Context, user string, asZip bool) (Download, error) {
	_, files, err := a.currentBundle(ctx, user, nil)
	if err != nil {
		return Download{}, err
	}
	if asZip {
		var b bytes.Buffer
		if err := bundle.Zip(&b, user, files, a.now()); err != nil {
			return Download{}, err
		}
		return Download{Name: user + ".zip", ContentType: "application/zip", Data: b.Bytes()}, nil
	}
	for _, f := range files {
		if f.Name == user+".ovpn" {
			return Download{Name: f.Name, ContentType: "application/x-openvpn-profile", Data: f.Data}, nil
		}
	}
	return Download{}, fmt.Errorf("bundle of %s has no profile", user)
}

// BundleZip renders a user's current bundle as a zip for an admin to hand
// over, without using any link.
func (a *Authority) BundleZip(ctx context.Context, user string) (Download, error) {
	d, err := a.download(ctx, user, true)
	if err != nil {
		return Download{}, err
	}
	a.db.WithTx(ctx, func(q *store.Queries) error { return a.audit(ctx, q, "user.download", user, nil) })
	return d, nil
}
