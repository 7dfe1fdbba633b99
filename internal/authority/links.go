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
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Link errors, each shown to the employee as its own page.
var (
	ErrLinkUnknown = fault.New(fault.NotFound, "link_unknown", "unknown link")
	ErrLinkUsed    = fault.New(fault.Conflict, "link_used", "this link was already used")
	ErrLinkExpired = fault.New(fault.Conflict, "link_expired", "this link has expired")
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
	if err := ValidLinkTTL(ttl); err != nil {
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
	l := Link{User: name, Token: tok, URL: a.linkURL(tok), ExpiresAt: now.Add(ttl).UTC()}
	err = a.withRetry(ctx, func(q *store.Queries) error {
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
	// URL is the link itself (PublicURL/l/TOKEN), set only while the link
	// can still be used, so the page can offer it as a QR code to a phone.
	URL string
	// Renew tells a renewal link (from an expiry warning): using it
	// renews the access and downloads the new profile.
	Renew bool
}

// linkURL is where the link with token tok is opened.
func (a *Authority) linkURL(tok string) string {
	return strings.TrimRight(a.opts.PublicURL, "/") + "/l/" + tok
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
	v := LinkView{User: uc.Name, FullName: uc.FullName, OS: uc.OS, Lang: uc.Lang, ExpiresAt: time.Unix(l.ExpiresAt, 0).UTC(),
		Renew: l.Purpose == store.LinkRenew}
	now := a.now()
	if err := linkUsable(l, uc, now); err != nil {
		return v, renewStale(l, err)
	}
	v.URL = a.linkURL(tok)
	if _, files, err := a.currentBundle(ctx, l.User, l.Serial, nil); err == nil {
		for _, f := range files {
			if f.Name == bundle.ReadmeName {
				v.Readme = string(f.Data)
			}
		}
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.MarkLinkOpened(ctx, l.TokenHash, now.Unix()); err != nil {
			return err
		}
		return a.audit(ctx, q, "link.open", l.User, nil)
	})
	return v, err
}

// linkUsable tells whether l may still be downloaded: not used, not
// expired, and made for the certificate that is still the user's active
// one. A link is made for one certificate: once that certificate is revoked
// or replaced (renew, add --new-key, revoke then add again) the link hands
// out nothing, and it is refused without being spent.
func linkUsable(l store.Link, uc store.UserCert, now time.Time) error {
	switch {
	case l.UsedAt != 0:
		return ErrLinkUsed
	case l.ExpiresAt <= now.Unix():
		return ErrLinkExpired
	}
	c := uc.Cert
	if c == nil || c.Serial != l.Serial || c.State != store.StateActive || !c.NotAfter.After(now) {
		return fmt.Errorf("%w: the link was made for certificate %s, which was revoked or replaced", ErrNotActive, l.Serial)
	}
	return nil
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
	uc, err := a.db.Q().GetUser(ctx, l.User)
	if err != nil {
		return Download{}, err
	}
	if err := linkUsable(l, uc, start); err != nil {
		return Download{}, renewStale(l, err)
	}
	if l.Purpose == store.LinkRenew {
		return a.redeemRenewal(ctx, l, from, asZip) // warnings_renew.go
	}
	d, err := a.download(ctx, l.User, l.Serial, asZip)
	if err != nil {
		return Download{}, err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		// The UPDATE re-checks, atomically, that the link is unused,
		// unexpired and its certificate still active.
		if err := q.RedeemLink(ctx, l.TokenHash, a.now().Unix(), from); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return a.whyNotRedeemed(ctx, q, l.TokenHash)
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

// whyNotRedeemed reads a link again after its conditional UPDATE matched
// nothing, to say which condition failed.
func (a *Authority) whyNotRedeemed(ctx context.Context, q *store.Queries, hash string) error {
	l, err := q.GetLink(ctx, hash)
	if err != nil {
		return err
	}
	uc, err := q.GetUser(ctx, l.User)
	if err != nil {
		return err
	}
	if err := linkUsable(l, uc, a.now()); err != nil {
		return err
	}
	return ErrLinkUsed
}

// download renders what a link hands out: the bundle of certificate serial
// ("" for the user's current one). When servers differ in control-channel
// mode the user needs a profile per mode, and a one-time link is spent at
// once, so the zip with all of them goes instead of USER.ovpn alone.
func (a *Authority) download(ctx context.Context, user, serial string, asZip bool) (Download, error) {
	_, files, err := a.currentBundle(ctx, user, serial, nil)
	if err != nil {
		return Download{}, err
	}
	if asZip || bundle.ModeProfiles(user, files) > 1 {
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
	d, err := a.download(ctx, user, "", true)
	if err != nil {
		return Download{}, err
	}
	a.withRetry(ctx, func(q *store.Queries) error { return a.audit(ctx, q, "user.download", user, nil) })
	return d, nil
}
