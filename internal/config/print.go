package config

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Redacted stands in for a secret in printed settings; Go's url.Redacted
// uses the same word, so a DSN reads the same wherever it is shown.
const Redacted = "xxxxx"

// MarshalText writes the duration as a config file spells it: "72h", "1h30m",
// "2s", without Go's trailing zero units ("72h0m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(formatDuration(d.Duration)), nil }

func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// TOML returns the settings as a config file spells them (its keys, "72h"
// durations), with every secret redacted: the password of the db DSN and
// the SMTP password, which is only said to be set. The text loads back as a
// config whose only differences are the redacted secrets.
func (c Config) TOML() ([]byte, error) {
	c.DB = RedactDSN(c.DB)
	var buf bytes.Buffer
	if c.SMTP.Password != "" {
		buf.WriteString("# smtp password: set (from VPNKEYS_SMTP_PASSWORD or smtp.password_file), not shown\n")
	}
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	return buf.Bytes(), nil
}

// kvPassword finds a password in a key/value DSN ("host=db password=secret"
// or password='it\'s w0rd'), and the sslpassword of a client key too.
var kvPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)

var urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)

// RedactDSN returns dsn with its passwords replaced by Redacted: the
// password of a URL's userinfo, a password or sslpassword query parameter,
// and a key/value DSN's password=... A URL that does not parse is shown as
// its scheme alone, since where its password ends cannot be told.
func RedactDSN(dsn string) string {
	scheme := urlScheme.FindString(dsn)
	if scheme == "" {
		return kvPassword.ReplaceAllString(dsn, "${1}"+Redacted)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return scheme + Redacted + " (not a valid URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Redacted)
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q.Set(k, Redacted)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
