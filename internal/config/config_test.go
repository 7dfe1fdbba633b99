package config

import (
	"fmt"
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

// TestWarnDays: the warning schedule from the file, the default when
// unset, an empty list for none, and each refusal one line naming it.
func TestWarnDays(t *testing.T) {
	load := func(t *testing.T, body string) (Config, error) {
		p := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(p, []byte(body), 0o600)
		c, err := Load(p)
		if err == nil {
			err = c.Validate()
		}
		return c, err
	}
	for name, tc := range map[string]struct{ body, want string }{
		"ok/unset":      {"", "[30 7 1]"},
		"ok/sorted":     {"warn_days = [1, 14, 60]\n", "[60 14 1]"},
		"ok/none":       {"warn_days = []\n", "[]"},
		"ok/edge":       {"warn_days = [365, 1]\n", "[365 1]"},
		"fail/zero":     {"warn_days = [0]\n", "warn_days: 0: want each 1 to 365 days"},
		"fail/366":      {"warn_days = [366]\n", "warn_days: 366: want each 1 to 365 days"},
		"fail/twice":    {"warn_days = [7, 7]\n", "warn_days: 7 given twice: want distinct days"},
		"fail/eleven":   {"warn_days = [1,2,3,4,5,6,7,8,9,10,11]\n", "warn_days: 11 entries: want at most 10"},
		"fail/negative": {"warn_days = [-1]\n", "warn_days: -1: want each 1 to 365 days"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := load(t, tc.body)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = fmt.Sprint(c.WarnSchedule())
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	for in, want := range map[string]string{"30,7,1": "[30 7 1]", "none": "[]", "": "[]", " 14 , 2 ": "[14 2]",
		"x": `"x" is not a number of days: want e.g. 30,7,1`, "0": "0: want each 1 to 365 days", "3,3": "3 given twice: want distinct days"} {
		days, err := ParseWarnDays(in)
		got := fmt.Sprint(days)
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ParseWarnDays(%q): got %q, want %q", in, got, want)
		}
	}
}
