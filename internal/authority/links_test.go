package authority

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

func TestLinks(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice")
	if _, err := f.a.CreateLink(ctx, "nobody", 0); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("link for unknown user: got %v", err)
	}
	l, err := f.a.CreateLink(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Token) < 40 || !strings.HasSuffix(l.URL, "/l/"+l.Token) {
		t.Fatalf("link: got %+v", l)
	}
	// Only the hash is stored.
	var n int
	f.db.SQL().QueryRow(`SELECT COUNT(*) FROM links WHERE token_hash = $1`, l.Token).Scan(&n)
	if n != 0 {
		t.Fatal("the token itself is in the database")
	}
	v, err := f.a.OpenLink(ctx, l.Token)
	if err != nil || v.User != "alice" || !strings.Contains(v.Readme, "alice.ovpn") {
		t.Fatalf("OpenLink: %+v %v", v, err)
	}
	if v.URL != l.URL {
		t.Fatalf("OpenLink: got URL %q, want the link's own %q (the page's QR code)", v.URL, l.URL)
	}
	// 100 concurrent redemptions: exactly one wins.
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := f.a.RedeemLink(ctx, l.Token, "127.0.0.1", false)
			switch {
			case err == nil && strings.Contains(string(d.Data), "<key>"):
				wins.Add(1)
			case errors.Is(err, ErrLinkUsed):
				used.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || used.Load() != 99 {
		t.Fatalf("got %d successes and %d 'used', want 1 and 99", wins.Load(), used.Load())
	}
	if v, err := f.a.OpenLink(ctx, l.Token); !errors.Is(err, ErrLinkUsed) || v.URL != "" {
		t.Fatalf("OpenLink after use: got %v and URL %q, want ErrLinkUsed and no URL", err, v.URL)
	}
	// Expiry, with the clock moved on.
	l2, _ := f.a.CreateLink(ctx, "alice", time.Minute)
	later := New(f.db, Options{DataDir: f.dir, Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	if _, err := later.OpenLink(ctx, l2.Token); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("expired link: got %v", err)
	}
	later.Unlock(ctx, pki.Passphrase(testPass))
	if _, err := later.RedeemLink(ctx, l2.Token, "x", true); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("redeeming expired link: got %v", err)
	}
	for _, bad := range []string{"", "l_nope", "vpk_x", strings.Repeat("l", 500)} {
		if _, err := f.a.OpenLink(ctx, bad); !errors.Is(err, ErrLinkUnknown) {
			t.Errorf("OpenLink(%q): got %v, want ErrLinkUnknown", bad, err)
		}
	}
	evs, _ := f.a.Audit(ctx, auditFilterTarget("alice"))
	actions := map[string]int{}
	for _, e := range evs {
		actions[e.Action]++
	}
	if actions["link.open"] < 1 || actions["link.redeem"] != 1 || actions["link.create"] != 2 {
		t.Fatalf("audit actions: got %v", actions)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	tok, err := f.a.CreateToken(ctx, "ci")
	if err != nil || !strings.HasPrefix(tok, "vpk_") {
		t.Fatalf("CreateToken: %q %v", tok, err)
	}
	if _, err := f.a.CreateToken(ctx, "ci"); !errors.Is(err, ErrTokenExists) {
		t.Fatalf("duplicate: got %v", err)
	}
	if name, err := f.a.Authenticate(ctx, tok); err != nil || name != "ci" {
		t.Fatalf("Authenticate: %q %v", name, err)
	}
	for _, bad := range []string{"", "vpk_", tok + "x", "Bearer " + tok} {
		if _, err := f.a.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Authenticate(%q): got %v", bad, err)
		}
	}
	if err := f.a.RevokeToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token: got %v", err)
	}
}

// TestLinkTTLCapInService: the cap holds for every front end, the CLI's
// --ttl included, because CreateLink enforces it.
func TestLinkTTLCapInService(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice")
	if _, err := f.a.CreateLink(ctx, "alice", MaxLinkTTL+time.Hour); err == nil {
		t.Fatal("a link over the cap was made")
	}
	if links, _ := f.db.Q().LinksOf(ctx, "alice"); len(links) != 0 {
		t.Fatalf("refused link stored: %d rows", len(links))
	}
	if _, err := f.a.CreateLink(ctx, "alice", MaxLinkTTL); err != nil {
		t.Fatalf("a link at the cap: %v", err)
	}
}
