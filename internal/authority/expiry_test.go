package authority

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

func TestParseWithin(t *testing.T) {
	ok := map[string]time.Duration{"": 30 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "2w": 14 * 24 * time.Hour, "36500d": 36500 * 24 * time.Hour}
	for in, want := range ok {
		t.Run("ok/"+in, func(t *testing.T) {
			got, err := ParseWithin(in)
			if err != nil || got != want {
				t.Errorf("got %v, %v; want %v", got, err, want)
			}
		})
	}
	for _, in := range []string{"0d", "-1d", "+3d", "30", "30m", "d", "1.5d", "36501d", "5300w", "99999999999w", "thirty"} {
		t.Run("fail/"+in, func(t *testing.T) {
			if got, err := ParseWithin(in); !errors.Is(err, account.ErrInvalid) {
				t.Errorf("got %v, %v; want an invalid-input error", got, err)
			}
		})
	}
}

// TestExpiring walks an injected clock: users, servers and the CA are
// listed by date while they are within the horizon, and not once expired;
// revoked certificates never are.
func TestExpiring(t *testing.T) {
	ctx := context.Background()
	f, clk := newClockFixture(t, 60, 0) // the CA ends in 60 days
	for name, days := range map[string]int{"alice": 10, "bob": 40, "carol": 20} {
		if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: name}}, AddOptions{NoBundles: true, Days: days}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.a.Revoke(ctx, "carol", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "vpn2.example.com:1194", Days: 15}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.ServerFiles(ctx, "dc2"); err != nil {
		t.Fatal(err)
	}
	// serve's own HTTPS certificate (30 days, renewed by serve) is not
	// listed: it would be in every 30-day list and every admin digest.
	if _, _, err := f.a.SelfTLS(ctx, []string{"vpn.example.com"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		within  time.Duration
		want    string // kind:name:days_left, soonest first
	}{
		{"ok/30 days", 0, 30 * 24 * time.Hour, "user:alice:10 server:dc2:15"},
		{"ok/45 days", 0, 45 * 24 * time.Hour, "user:alice:10 server:dc2:15 user:bob:40"},
		{"ok/12 hours", 0, 12 * time.Hour, ""},
		{"ok/day 35: expired ones gone, the CA due", 35 * 24 * time.Hour, 30 * 24 * time.Hour, "user:bob:5 ca:vpnkeys CA:25"},
		{"ok/day 61: all over", 26 * 24 * time.Hour, 30 * 24 * time.Hour, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Add(s.advance)
			list, err := f.a.Expiring(ctx, s.within)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, v := range list {
				got = append(got, fmt.Sprintf("%s:%s:%d", v.Kind, v.Name, v.DaysLeft))
				if v.Serial == "" || (i > 0 && v.NotAfter.Before(list[i-1].NotAfter)) {
					t.Errorf("entry %d: %+v: want a serial and date order", i, v)
				}
			}
			if g := strings.Join(got, " "); g != s.want {
				t.Errorf("got %q, want %q", g, s.want)
			}
		})
	}
	t.Run("fail/zero horizon", func(t *testing.T) {
		if _, err := f.a.Expiring(ctx, 0); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("got %v, want an invalid-input error", err)
		}
	})
}

// TestListExpiringWithin: list --status expiring takes its horizon.
func TestListExpiringWithin(t *testing.T) {
	ctx := context.Background()
	f, _ := newClockFixture(t, 3650, 0)
	for name, days := range map[string]int{"alice": 10, "bob": 40} {
		if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: name}}, AddOptions{NoBundles: true, Days: days}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		within time.Duration
		want   string
	}{{0, "alice"}, {45 * 24 * time.Hour, "alice bob"}, {24 * time.Hour, ""}} {
		t.Run(fmt.Sprintf("ok/%v", c.within), func(t *testing.T) {
			users, _, err := f.a.List(ctx, ListFilter{Status: StatusExpiring, Within: c.within, OrderBy: "name"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Name)
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Errorf("got %q, want %q", g, c.want)
			}
		})
	}
}
