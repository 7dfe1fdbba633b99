package access

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

func rules(t *testing.T, ss ...string) []Rule {
	t.Helper()
	var out []Rule
	for _, s := range ss {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestDecide(t *testing.T) {
	groups := []Group{
		{Name: "ops", Rules: rules(t, "10.1.0.0/16", "10.9.0.1:udp/53")},
		{Name: "developers", Rules: rules(t, "10.1.0.0/16:tcp/22,443", "10.1.5.3:udp/53")},
	}
	cases := []struct {
		name, addr, proto string
		port              uint16
		allowed           bool
		group, rule       string
	}{
		{"ok/first group by name decides", "10.1.5.3", "tcp", 22, true, "developers", "10.1.0.0/16:tcp/22,443"},
		{"ok/second group", "10.1.5.3", "tcp", 80, true, "ops", "10.1.0.0/16"},
		{"ok/second rule", "10.1.5.3", "udp", 53, true, "developers", "10.1.5.3:udp/53"},
		{"fail/nothing matches", "10.2.0.1", "tcp", 22, false, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, g, r := Decide(groups, netip.MustParseAddr(c.addr), c.proto, c.port)
			got := ""
			if ok {
				got = r.String()
			}
			if ok != c.allowed || g != c.group || got != c.rule {
				t.Fatalf("got %v %q %q, want %v %q %q", ok, g, got, c.allowed, c.group, c.rule)
			}
		})
	}
	if groups[0].Name != "ops" {
		t.Fatalf("Decide reordered its argument: got %q first, want ops", groups[0].Name)
	}
}

func TestValidGroupName(t *testing.T) {
	for _, n := range []string{"developers", "ops-2", "a.b_c"} {
		if err := ValidGroupName(n); err != nil {
			t.Errorf("ok/%s: got %v, want nil", n, err)
		}
	}
	for _, n := range []string{"", "Developers", "-x", "a..b", "a b", "x/y", string(make([]byte, 65))} {
		if err := ValidGroupName(n); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("fail/%q: got %v, want account.ErrInvalid", n, err)
		}
	}
}
