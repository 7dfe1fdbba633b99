package access

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

func TestParseRule(t *testing.T) {
	ok := []struct{ in, want string }{
		{"10.1.5.3", "10.1.5.3"},
		{"10.1.5.3/32", "10.1.5.3"},
		{"10.1.2.3/16", "10.1.0.0/16"},
		{"10.1.0.0/16:TCP/443,22", "10.1.0.0/16:tcp/22,443"},
		{"10.1.0.0/16:tcp/22,23,24-30,8000-8100,8050-8200", "10.1.0.0/16:tcp/22-30,8000-8200"},
		{"10.1.5.3:udp/53", "10.1.5.3:udp/53"},
		{"10.1.5.3:udp", "10.1.5.3:udp"},
		{"10.1.0.0/16:icmp", "10.1.0.0/16:icmp"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:DB8::1", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"[2001:db8::1]:tcp/443", "[2001:db8::1]:tcp/443"},
		{"[2001:db8::5/32]:icmp", "[2001:db8::/32]:icmp"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.0.0.1:tcp/1-65535", "10.0.0.1:tcp/1-65535"},
	}
	for _, c := range ok {
		t.Run("ok/"+c.in, func(t *testing.T) {
			r, err := ParseRule(c.in)
			if err != nil {
				t.Fatalf("ParseRule(%q): %v", c.in, err)
			}
			if got := r.String(); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			again, err := ParseRule(r.String())
			if err != nil || again.String() != c.want {
				t.Fatalf("round trip: got %q, %v, want %q", again.String(), err, c.want)
			}
		})
	}
	bad := []struct{ in, part string }{
		{"", "empty rule"},
		{"10.1.0.0/33", `"10.1.0.0/33"`},
		{"10.1.0", `"10.1.0"`},
		{"host.example.com", `"host.example.com"`},
		{"10.1.0.0/16:sctp", `"sctp"`},
		{"10.1.0.0/16:", "empty protocol"},
		{"10.1.0.0/16:tcp/", "empty port list"},
		{"10.1.0.0/16:tcp/0", `port "0"`},
		{"10.1.0.0/16:tcp/65536", `port "65536"`},
		{"10.1.0.0/16:tcp/22,,443", `port ""`},
		{"10.1.0.0/16:tcp/ssh", `port "ssh"`},
		{"10.1.0.0/16:tcp/100-90", "backwards"},
		{"10.1.0.0/16:icmp/8", "icmp takes no ports"},
		{"2001:db8::/32:tcp/443", "brackets"},
		{"[2001:db8::1:tcp/443", "without ']'"},
		{"[2001:db8::1]tcp", "after ']'"},
		{"fe80::1%eth0", "zone"},
		{"::ffff:10.1.2.3", "IPv4-mapped"},
	}
	for _, c := range bad {
		t.Run("fail/"+c.in, func(t *testing.T) {
			_, err := ParseRule(c.in)
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("got %v, want an account.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.part) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %q, want one line naming %s", err, c.part)
			}
		})
	}
}

func TestAllowsEverything(t *testing.T) {
	for in, want := range map[string]bool{"0.0.0.0/0": true, "::/0:tcp/22": false, "[::/0]:tcp/22": true, "10.0.0.0/8": false, "::/1": false} {
		r, err := ParseRule(in)
		if in == "::/0:tcp/22" {
			if err == nil {
				t.Fatalf("ParseRule(%q): got nil error, want one", in)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AllowsEverything(); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	cases := []struct {
		rule, addr, proto string
		port              uint16
		want              bool
	}{
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "tcp", 22, true},
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "tcp", 23, false},
		{"10.1.0.0/16:tcp/22,443", "10.1.2.3", "udp", 22, false},
		{"10.1.0.0/16:tcp/22,443", "10.2.2.3", "tcp", 22, false},
		{"10.1.0.0/16:tcp/8000-8100", "10.1.0.1", "tcp", 8100, true},
		{"10.1.0.0/16:tcp/8000-8100", "10.1.0.1", "tcp", 8101, false},
		{"10.1.0.0/16:tcp", "10.1.0.1", "tcp", 9, true},
		{"10.1.0.0/16", "10.1.0.1", "udp", 9, true},
		{"10.1.0.0/16", "10.1.0.1", "icmp", 0, true},
		{"10.1.0.0/16:icmp", "10.1.0.1", "icmp", 0, true},
		{"10.1.0.0/16:icmp", "10.1.0.1", "tcp", 80, false},
		{"10.1.0.0/16", "::ffff:10.1.0.1", "tcp", 80, true},
		{"[2001:db8::/32]:icmp", "2001:db8::7", "icmpv6", 0, true},
		{"[2001:db8::/32]:icmp", "10.1.0.1", "icmp", 0, false},
	}
	for _, c := range cases {
		name := "ok/"
		if !c.want {
			name = "fail/"
		}
		t.Run(name+c.rule+"/"+c.addr+"/"+c.proto, func(t *testing.T) {
			r, err := ParseRule(c.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Matches(netip.MustParseAddr(c.addr), c.proto, c.port); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"10.1.0.0/16:tcp/22,443", "[2001:db8::1]:udp/53-60", "10.1.5.3", "::/0", "10.0.0.1:icmp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("ParseRule(%q): %v is not account.ErrInvalid", s, err)
			}
			return
		}
		again, err := ParseRule(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("ParseRule(%q) = %q, which parses as %q, %v", s, r, again, err)
		}
	})
}
