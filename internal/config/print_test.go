package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ok/url password", "postgres://vpnkeys:s3cret@db.example.com:5432/vpnkeys?sslmode=verify-full", "postgres://vpnkeys:xxxxx@db.example.com:5432/vpnkeys?sslmode=verify-full"},
		{"ok/escaped password", "postgresql://vpnkeys:s3%40cr%2Fet@db/vpnkeys", "postgresql://vpnkeys:xxxxx@db/vpnkeys"},
		{"ok/empty user", "postgres://:s3cret@db/vpnkeys", "postgres://:xxxxx@db/vpnkeys"},
		{"ok/no password", "postgres://vpnkeys@db/vpnkeys", "postgres://vpnkeys@db/vpnkeys"},
		{"ok/query password", "postgres://db/vpnkeys?user=v&password=s3cret&sslpassword=k3y", "postgres://db/vpnkeys?password=xxxxx&sslpassword=xxxxx&user=v"},
		{"ok/query password any case", "postgres://db/vpnkeys?Password=s3cret", "postgres://db/vpnkeys?Password=xxxxx"},
		{"ok/key value", "host=db user=v password=s3cret dbname=vpnkeys", "host=db user=v password=xxxxx dbname=vpnkeys"},
		{"ok/key value quoted", `host=db password='s3 c\'ret' dbname=x`, "host=db password=xxxxx dbname=x"},
		{"ok/key value spaced", "host=db password = s3cret sslpassword=k3y", "host=db password = xxxxx sslpassword=xxxxx"},
		{"ok/key value with a url in it", "password=s3cret application_name=a://b", "password=xxxxx application_name=a://b"},
		{"ok/sqlite path", "/var/lib/vpnkeys/vpnkeys.db", "/var/lib/vpnkeys/vpnkeys.db"},
		{"ok/empty", "", ""},
		{"ok/not a url", "postgres://vpnkeys:s3/cret@db/vpnkeys", "postgres://xxxxx (not a valid URL)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactDSN(tc.in)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for _, secret := range []string{"s3cret", "s3%40cr", "s3 c", "k3y", "cret"} {
				if strings.Contains(got, secret) {
					t.Fatalf("got %q, which holds %q", got, secret)
				}
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		72 * time.Hour: "72h", 90 * time.Minute: "1h30m", time.Minute: "1m", 2 * time.Second: "2s",
		0: "0s", time.Hour + 5*time.Second: "1h0m5s", 1500 * time.Millisecond: "1.5s",
	}
	for d, want := range tests {
		if got := formatDuration(d); got != want {
			t.Errorf("ok/%v: got %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("ok/%v: %q parses back as %v, %v", d, want, back, err)
		}
	}
}

// TestTOMLRoundTrip: the printed settings name the file's keys, hold no
// secret, and load back as the same valid config but for the redactions.
func TestTOMLRoundTrip(t *testing.T) {
	c, err := Load("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.DB = "postgres://vpnkeys:pg-s3cret@db.example.com/vpnkeys?sslmode=verify-full"
	c.SMTP.Password = "smtp-s3cret"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	text, err := c.TOML()
	if err != nil {
		t.Fatal(err)
	}
	out := string(text)
	for _, bad := range []string{"pg-s3cret", "smtp-s3cret", "LinkTTL", "Duration", "172800000000000"} {
		if strings.Contains(out, bad) {
			t.Fatalf("the printed settings hold %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"\nlink_ttl = \"72h\"\n", "\nbackoff = \"2s\"\n", "\n[smtp]\n", "# smtp password: set", "vpnkeys:xxxxx@db.example.com"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the printed settings lack %q:\n%s", want, out)
		}
	}
	p := filepath.Join(t.TempDir(), "printed.toml")
	if err := os.WriteFile(p, text, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := Load(p)
	if err == nil {
		err = back.Validate()
	}
	if err != nil {
		t.Fatalf("the printed settings do not load: %v\n%s", err, out)
	}
	want := c
	want.DB = RedactDSN(c.DB)
	want.SMTP.Password = ""
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip: got %+v, want %+v", back, want)
	}
}
