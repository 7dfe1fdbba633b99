package authority

import (
	"archive/zip"
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// TestLinkMixedModes: with servers of two control-channel modes a user
// needs two profiles; a one-time link is spent by one download, so it
// hands out the zip holding both, not USER.ovpn alone. With one mode it
// is still the profile.
func TestLinkMixedModes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn1.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice")
	redeem := func() Download {
		t.Helper()
		l, err := f.a.CreateLink(ctx, "alice", 0)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.a.RedeemLink(ctx, l.Token, "127.0.0.1", false)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := redeem(); d.Name != "alice.ovpn" {
		t.Fatalf("ok/one-mode: got %s, want alice.ovpn", d.Name)
	}
	f.addServer(t, "dc2", "vpn2.example.com:1194")
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc2", TLSMode: "tls-auth"}); err != nil {
		t.Fatal(err)
	}
	d := redeem()
	zr, err := zip.NewReader(bytes.NewReader(d.Data), int64(len(d.Data)))
	if d.Name != "alice.zip" || err != nil {
		t.Fatalf("fail/mixed-modes: got %s (%v), want alice.zip", d.Name, err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	for _, want := range []string{"alice/alice.ovpn", "alice/alice-tls-auth.ovpn"} {
		if !slices.Contains(names, want) {
			t.Errorf("zip: got %v, want %s in it", names, want)
		}
	}
}
