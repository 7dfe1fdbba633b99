package authority

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Setting keys kept in the database, spelled as the config file spells
// them. A front end fills an option from the stored value only when no
// flag, environment variable or config file gave one.
const (
	SettingCompany   = "company"
	SettingContact   = "contact"
	SettingPublicURL = "public_url"
	SettingLinkTTL   = "link_ttl"  // a Go duration: 72h
	SettingCertDays  = "cert_days" // lifetime of user and server certificates
	// SettingTLSMode is the control channel of servers added without
	// --tls-mode (import easyrsa sets it to tls-auth for a tls-auth setup).
	SettingTLSMode = "tls_mode"
)

// SettingKeys lists the keys Settings and SetSetting know, in display order.
var SettingKeys = []string{SettingCompany, SettingContact, SettingPublicURL, SettingLinkTTL, SettingCertDays, SettingTLSMode}

// ValidSetting checks value for key; "" (which clears the key) is valid.
func ValidSetting(key, value string) error {
	if !slices.Contains(SettingKeys, key) {
		return fmt.Errorf("%w: unknown setting %q; known: %s", account.ErrInvalid, key, strings.Join(SettingKeys, ", "))
	}
	if value == "" {
		return nil
	}
	if len(value) > 200 || strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("%w: %s must be one line of at most 200 characters", account.ErrInvalid, key)
	}
	switch key {
	case SettingPublicURL:
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return fmt.Errorf("%w: public_url must be like https://vpn.example.com", account.ErrInvalid)
		}
	case SettingLinkTTL:
		if d, err := time.ParseDuration(value); err != nil || d <= 0 {
			return fmt.Errorf("%w: link_ttl must be a positive duration such as 72h", account.ErrInvalid)
		}
	case SettingTLSMode:
		if _, err := ovpn.ParseTLSMode(value); err != nil {
			return err
		}
	case SettingCertDays:
		if n, err := strconv.Atoi(value); err != nil || n < 1 || n > MaxLeafDays {
			return fmt.Errorf("%w: cert_days must be a whole number of days from 1 to %d", account.ErrInvalid, MaxLeafDays)
		}
	}
	return nil
}

// SetSetting stores one setting (an empty value removes it), audited.
func (a *Authority) SetSetting(ctx context.Context, key, value string) error {
	if err := ValidSetting(key, value); err != nil {
		return err
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.SetSetting(ctx, key, value, a.now()); err != nil {
			return err
		}
		return a.audit(ctx, q, "settings.set", key, map[string]any{"value": value})
	})
}
