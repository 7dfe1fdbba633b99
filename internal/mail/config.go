package mail

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"time"
)

// Secret is a password that never prints.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// TLSMode is how the SMTP connection is protected.
type TLSMode string

// The TLS modes.
const (
	StartTLS TLSMode = "starttls"
	Implicit TLSMode = "implicit"
	NoTLS    TLSMode = "none" // loopback relays only
)

// Config is the [smtp] section of the configuration.
type Config struct {
	Host       string        `toml:"host"`
	Port       int           `toml:"port"`
	Username   string        `toml:"username"`
	Password   Secret        `toml:"-"`
	PassFile   string        `toml:"password_file"`
	From       string        `toml:"from"`
	Admin      string        `toml:"admin"`
	TLS        TLSMode       `toml:"tls"`
	RootCAFile string        `toml:"root_ca_file"`
	Timeout    time.Duration `toml:"timeout"`
	Retries    int           `toml:"retries"`
	Backoff    time.Duration `toml:"backoff"`
}

// Enabled tells whether mail is configured at all.
func (c *Config) Enabled() bool { return c.Host != "" }

// Validate fills defaults and checks the section; the error names the field.
func (c *Config) Validate() error {
	if c.Host == "" {
		return fmt.Errorf("smtp.host is required")
	}
	if c.TLS == "" {
		c.TLS = StartTLS
	}
	switch c.TLS {
	case StartTLS, Implicit:
	case NoTLS:
		if ip := net.ParseIP(c.Host); c.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("smtp.tls = \"none\" is allowed only for a loopback host, not %q", c.Host)
		}
	default:
		return fmt.Errorf("smtp.tls %q: use starttls, implicit or none", c.TLS)
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == Implicit {
			c.Port = 465
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("smtp.port %d: must be 1-65535", c.Port)
	}
	if c.From == "" {
		return fmt.Errorf("smtp.from is required")
	}
	for field, v := range map[string]string{"smtp.from": c.From, "smtp.admin": c.Admin} {
		if v == "" {
			continue
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return fmt.Errorf("%s %q: want a plain address such as vpn@example.com", field, v)
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Retries <= 0 {
		c.Retries = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 2 * time.Second
	}
	return nil
}
