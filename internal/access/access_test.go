package access

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	ok := []struct{ in, want string }{
		{"10.1.0.0/16:tcp/22,443", "10.1.0.0/16:tcp/22,443"},
		{"10.1.5.3:udp/53", "10.1.5.3:udp/53"},
		{"10.1.5.3/32", "10.1.5.3"},
		{"10.1.5.3/16", "10.1.0.0/16"},
		{" 10.1.0.0/16:TCP/443,22,23,8000-8100,8050 ", "10.1.0.0/16:tcp/22-23,443,8000-8100"},
		{"10.1.0.0/16:tcp", "10.1.0.0/16:tcp"},
		{"10.1.0.0/16:icmp", "10.1.0.0/16:icmp"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:db8::1", "2001:db8::1"},
		{"[2001:db8::1]:tcp/443", "[2001:db8::1]:tcp/443"},
		{"[2001:db8::/32]:icmp", "[2001:db8::/32]:icmp"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.0.0.1:tcp/1,65535", "10.0.0.1:tcp/1,65535"},
	}
	for _, c := range ok {
		t.Run("ok/"+c.in, func(t *testing.T) {
			r, err := ParseRule(c.in)
			if err != nil {
				t.Fatalf("ParseRule: %v", err)
			}
			if got := r.String(); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			again, err := ParseRule(r.String())
			if err != nil || again.String() != c.want {
				t.Fatalf("canonical form does not parse back: got %q, %v", again.String(), err)
			}
		})
	}
	bad := []struct{ in, mention string }{
		{"", "empty rule"},
		{"10.1.0.0/33", "10.1.0.0/33"},
		{"10.1.0", "10.1.0"},
		{"10.1.0.0/16:sctp", `"sctp"`},
		{"10.1.0.0/16:tcp/0", `port "0"`},
		{"10.1.0.0/16:tcp/65536", `port "65536"`},
		{"10.1.0.0/16:tcp/22,", `port ""`},
		{"10.1.0.0/16:tcp/", "missing ports"},
		{"10.1.0.0/16:tcp/100-20", "backwards"},
		{"10.1.0.0/16:icmp/8", "icmp takes no ports"},
		{"10.1.0.0/16:", "missing protocol"},
		{"[2001:db8::1", "missing ']'"},
		{"[2001:db8::1]tcp", "expected ':PROTO'"},
		{"2001:db8::1:tcp/443", "brackets"},
		{"fe80::1%eth0", "fe80::1%eth0"},
	}
	for _, c := range bad {
		t.Run("fail/"+c.in, func(t *testing.T) {
			_, err := ParseRule(c.in)
			if err == nil {
				t.Fatalf("got no error, want one mentioning %q", c.mention)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.mention) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %q, want one invalid line mentioning %q", err, c.mention)
			}
		})
	}
}

func TestAllowsEverything(t *testing.T) {
	for in, want := range map[string]bool{"0.0.0.0/0": true, "::/0": true, "0.0.0.0/0:tcp/22": true, "10.0.0.0/8": false, "::/1": false} {
		r, err := ParseRule(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AllowsEverything(); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func mustRule(t *testing.T, s string) Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatches(t *testing.T) {
	cases := []struct {
		rule, addr, proto string
		port              uint16
		want              bool
	}{
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "tcp", 22, true},
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "tcp", 80, false},
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "udp", 22, false},
		{"10.1.0.0/16:tcp/22,443", "10.2.0.1", "tcp", 22, false},
		{"10.1.0.0/16:tcp/8000-8100", "10.1.0.1", "tcp", 8100, true},
		{"10.1.0.0/16:tcp/8000-8100", "10.1.0.1", "tcp", 8101, false},
		{"10.1.0.0/16:tcp", "10.1.0.1", "tcp", 1, true},
		{"10.1.0.0/16", "10.1.0.1", "udp", 53, true},
		{"10.1.0.0/16", "10.1.0.1", "icmp", 0, true},
		{"10.1.0.0/16:icmp", "10.1.0.1", "icmp", 0, true},
		{"10.1.0.0/16:icmp", "10.1.0.1", "tcp", 0, false},
		{"[2001:db8::/32]:icmp", "2001:db8::5", "icmpv6", 0, true},
		{"10.1.0.0/16", "::ffff:10.1.0.1", "tcp", 1, true},
		{"2001:db8::/32", "10.1.0.1", "tcp", 1, false},
	}
	for _, c := range cases {
		name := "fail/"
		if c.want {
			name = "ok/"
		}
		t.Run(name+c.rule+"->"+c.addr, func(t *testing.T) {
			got := mustRule(t, c.rule).Matches(netip.MustParseAddr(c.addr), c.proto, c.port)
			if got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	groups := []Group{
		{Name: "ops", Rules: []Rule{mustRule(t, "10.1.0.0/16")}},
		{Name: "developers", Rules: []Rule{mustRule(t, "10.9.0.0/16:udp/53"), mustRule(t, "10.1.0.0/16:tcp/22,443")}},
	}
	ok, g, r := Decide(groups, netip.MustParseAddr("10.1.0.5"), "tcp", 22)
	if !ok || g != "developers" || r.String() != "10.1.0.0/16:tcp/22,443" {
		t.Fatalf("got %v %q %q, want the first group by name (developers) and its rule", ok, g, r)
	}
	ok, g, _ = Decide(groups, netip.MustParseAddr("10.1.0.5"), "tcp", 80)
	if !ok || g != "ops" {
		t.Fatalf("got %v %q, want ops", ok, g)
	}
	ok, g, _ = Decide(groups, netip.MustParseAddr("10.9.9.9"), "tcp", 22)
	if ok || g != "" {
		t.Fatalf("got %v %q, want denied", ok, g)
	}
	if groups[0].Name != "ops" {
		t.Fatalf("Decide reordered its input")
	}
}

func TestValidGroupName(t *testing.T) {
	for _, n := range []string{"developers", "ops-1", "a.b"} {
		if err := ValidGroupName(n); err != nil {
			t.Errorf("ok/%s: %v", n, err)
		}
	}
	for _, n := range []string{"", "Dev", "-x", "a..b", "a b", strings.Repeat("a", 65)} {
		err := ValidGroupName(n)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "group") {
			t.Errorf("fail/%q: got %v, want an invalid group-name error", n, err)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"10.1.0.0/16:tcp/22,443", "[2001:db8::1]:udp/53", "10.0.0.1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		again, err := ParseRule(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q: canonical %q does not parse back: %q, %v", s, r.String(), again.String(), err)
		}
	})
}
