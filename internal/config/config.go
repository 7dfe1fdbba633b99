// Package config reads vpnkeys' configuration file (TOML). Flags win over
// the environment (VPNKEYS_...), which wins over the file; the CLI applies
// that order. Secrets are never in the file itself: the SMTP password comes
// from a file it names or from VPNKEYS_SMTP_PASSWORD.
package config

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// Config is the whole file.
type Config struct {
	Listen       string      `toml:"listen"`
	AgentListen  string      `toml:"agent_listen"`
	PublicURL    string      `toml:"public_url"`
	Data         string      `toml:"data"`
	DB           string      `toml:"db"`
	Company      string      `toml:"company"`
	Contact      string      `toml:"contact"`
	Templates    string      `toml:"templates"`
	LinkTTL      Duration    `toml:"link_ttl"`
	InsecureHTTP bool        `toml:"insecure_http"`
	CRLDays      int         `toml:"crl_days"`
	CertDays     int         `toml:"cert_days"`
	AgentRunDir  string      `toml:"agent_run_dir"`
	TLS          TLS         `toml:"tls"`
	SMTP         mail.Config `toml:"smtp"`
	// WarnDays is the expiry warning schedule (warn.go); nil: the default.
	WarnDays *[]int `toml:"warn_days"`
}

// TLS is the [tls] section.
type TLS struct {
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
	Self bool   `toml:"self"` // a certificate issued from the CA at start
}

// Duration reads "72h" style durations.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// Load reads path; unknown keys are an error (a typo must not pass silently).
func Load(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return c, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return c, nil
}

// LoadSecrets reads the SMTP password from the environment or the file the
// config names.
func (c *Config) LoadSecrets() error {
	if v := os.Getenv("VPNKEYS_SMTP_PASSWORD"); v != "" {
		c.SMTP.Password = mail.Secret(v)
		return nil
	}
	if c.SMTP.PassFile != "" {
		b, err := os.ReadFile(c.SMTP.PassFile)
		if err != nil {
			return fmt.Errorf("reading smtp.password_file: %w", err)
		}
		c.SMTP.Password = mail.Secret(strings.TrimRight(string(b), "\r\n"))
	}
	return nil
}

// MaxCRLDays is the longest CRL lifetime accepted: 10 years, as an
// explicit choice (the default is 30 days, re-signed daily by serve).
const MaxCRLDays = 3650

// ValidCRLDays checks a CRL lifetime in days.
func ValidCRLDays(n int) error {
	if n < 1 || n > MaxCRLDays {
		return fmt.Errorf("want 1 to %d days", MaxCRLDays)
	}
	return nil
}

// MaxCertDays is the longest user or server certificate lifetime accepted
// (authority.MaxLeafDays): 10 years.
const MaxCertDays = 3650

// ValidCertDays checks a user or server certificate lifetime in days.
func ValidCertDays(n int) error {
	if n < 1 || n > MaxCertDays {
		return fmt.Errorf("want 1 to %d days", MaxCertDays)
	}
	return nil
}

// Validate checks every section; the error names the key.
func (c *Config) Validate() error {
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("listen %q: want HOST:PORT", c.Listen)
		}
	}
	if c.AgentListen != "" {
		if _, _, err := net.SplitHostPort(c.AgentListen); err != nil {
			return fmt.Errorf("agent_listen %q: want HOST:PORT", c.AgentListen)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("public_url %q: want https://HOST[:PORT]", c.PublicURL)
		}
	}
	if urlScheme.MatchString(c.DB) {
		// url.Parse's error quotes the DSN, password and all: never wrap it.
		if _, err := url.Parse(c.DB); err != nil {
			return fmt.Errorf("db: not a valid URL; percent-encode special characters in the user name and password")
		}
	}
	if c.LinkTTL.Duration < 0 || c.LinkTTL.Duration > 90*24*time.Hour {
		return fmt.Errorf("link_ttl %v: want up to 90 days", c.LinkTTL.Duration)
	}
	if c.CRLDays != 0 {
		if err := ValidCRLDays(c.CRLDays); err != nil {
			return fmt.Errorf("crl_days %d: %w", c.CRLDays, err)
		}
	}
	if c.CertDays != 0 {
		if err := ValidCertDays(c.CertDays); err != nil {
			return fmt.Errorf("cert_days %d: %w", c.CertDays, err)
		}
	}
	if c.WarnDays != nil {
		if err := ValidWarnDays(*c.WarnDays); err != nil {
			return fmt.Errorf("warn_days: %w", err)
		}
	}
	if c.AgentRunDir != "" {
		if err := ovpn.ValidRunDir(c.AgentRunDir); err != nil {
			return fmt.Errorf("agent_run_dir: %w", err)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("tls.cert and tls.key go together")
	}
	if c.TLS.Self && c.TLS.Cert != "" {
		return fmt.Errorf("tls.self and tls.cert exclude each other")
	}
	if c.SMTP.Enabled() {
		if err := c.SMTP.Validate(); err != nil {
			return err
		}
	}
	return nil
}
