package cli

import (
	"strings"
	"testing"
)

// TestLinkNeedsPublicURL: without a public URL, link refuses with one line
// and makes no link; --public-url or the stored setting gives full URLs.
func TestLinkNeedsPublicURL(t *testing.T) {
	data, pf := setup(t)
	if r := run(t, nil, "--data", data, "--passphrase-file", pf, "add", "alice"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	r := run(t, nil, "--data", data, "link", "alice")
	if r.code != 2 || !strings.Contains(r.err, "public URL") || strings.Contains(r.out, "/l/") {
		t.Fatalf("link without a public URL: got %+v, want exit 2 naming the public URL", r)
	}
	if a := run(t, nil, "--data", data, "audit", "--target", "alice"); strings.Contains(a.out, "link.create") {
		t.Fatalf("a refused link was recorded: %s", a.out)
	}
	r = run(t, nil, "--data", data, "--public-url", "https://vpn.example.com", "link", "alice")
	if r.code != 0 || !strings.HasPrefix(r.out, "https://vpn.example.com/l/") {
		t.Fatalf("link --public-url: got %+v", r)
	}
	if r := run(t, nil, "--data", data, "settings", "set", "public_url", "https://keys.example.com"); r.code != 0 {
		t.Fatalf("settings set: %+v", r)
	}
	r = run(t, nil, "--data", data, "link", "alice")
	if r.code != 0 || !strings.HasPrefix(r.out, "https://keys.example.com/l/") {
		t.Fatalf("link with the stored public URL: got %+v", r)
	}
	if r := run(t, nil, "--data", data, "--public-url", "vpn.example.com", "link", "alice"); r.code != 2 {
		t.Fatalf("link --public-url without a scheme: got %+v, want exit 2", r)
	}
}
