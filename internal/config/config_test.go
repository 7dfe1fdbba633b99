package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExample loads the commented example shipped with vpnkeys.
func TestExample(t *testing.T) {
	c, err := Load("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8443" || c.SMTP.Host != "smtp.example.com" || c.LinkTTL.Hours() != 72 || !c.TLS.Self || c.SMTP.Backoff.Seconds() != 2 {
		t.Fatalf("example: got %+v", c)
	}
}

func TestRefusals(t *testing.T) {
	tests := map[string]string{
		"fail/unknown key":  "lisen = \"x\"\n",
		"fail/bad listen":   "listen = \"8443\"\n",
		"fail/bad url":      "public_url = \"vpn.example.com\"\n",
		"fail/bad ttl":      "link_ttl = \"forever\"\n",
		"fail/cert alone":   "[tls]\ncert = \"a\"\n",
		"fail/smtp no from": "[smtp]\nhost = \"smtp.example.com\"\n",
		"fail/db not a url": "db = \"postgres://u:s3/cret@db/x\"\n",
	}
	for name, body := range tests {
		p := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(p, []byte(body), 0o600)
		c, err := Load(p)
		if err == nil {
			err = c.Validate()
		}
		if err == nil {
			t.Errorf("%s: got nil error", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", name, err)
		} else if strings.Contains(err.Error(), "s3/cret") {
			t.Errorf("%s: error shows the password: %q", name, err)
		}
	}
}
