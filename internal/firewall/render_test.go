package firewall

import (
	"context"
	"errors"
	"flag"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func mustRules(t testing.TB, ss ...string) []access.Rule {
	t.Helper()
	var out []access.Rule
	for _, s := range ss {
		r, err := access.ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// fixture is the golden data set: 3 groups (IPv4 and IPv6, port ranges,
// icmp, a destination inside the tunnel), 5 users, bob and erin in two
// groups, dave in none; given out of order on purpose.
func fixture(t testing.TB) (Server, []Member, []access.Group) {
	srv := Server{Name: "dc1", Subnet: netip.MustParsePrefix("10.8.0.0/24"), Device: "tun0"}
	groups := []access.Group{
		{Name: "sales", Rules: mustRules(t, "10.3.4.5:tcp/443", "10.3.4.0/24:icmp", "[2001:db8:3::10]:icmp")},
		{Name: "developers", Rules: mustRules(t, "10.1.0.0/16:tcp/22,443,8000-8100", "10.1.5.3:udp/53", "[2001:db8:1::/48]:tcp/22")},
		{Name: "ops", Rules: mustRules(t, "10.1.0.0/16", "10.2.0.0/17:icmp", "10.2.128.0/17:udp/161-162", "2001:db8::/32", "10.8.0.0/24:tcp/22")},
	}
	members := []Member{
		{User: "erin", Address: netip.MustParseAddr("10.8.0.5"), Groups: []string{"ops", "developers", "ops"}},
		{User: "dave", Address: netip.MustParseAddr("10.8.0.10")},
		{User: "carol", Address: netip.MustParseAddr("10.8.0.4"), Groups: []string{"sales"}},
		{User: "bob", Address: netip.MustParseAddr("10.8.0.3"), Groups: []string{"developers", "ops"}},
		{User: "alice", Address: netip.MustParseAddr("10.8.0.2"), Groups: []string{"developers"}},
	}
	return srv, members, groups
}

func ccdText(ccd map[string][]byte) string {
	var b strings.Builder
	for _, u := range slices.Sorted(maps.Keys(ccd)) {
		b.WriteString("==> " + u + " <==\n")
		b.Write(ccd[u])
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to make it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	srv, members, groups := fixture(t)
	ruleset, ccd, err := Render(srv, members, groups)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dc1.nft.golden", ruleset)
	golden(t, "dc1.ccd.golden", ccdText(ccd))

	t.Run("ok/deterministic", func(t *testing.T) {
		slices.Reverse(members)
		slices.Reverse(groups)
		again, ccd2, err := Render(srv, members, groups)
		if err != nil {
			t.Fatal(err)
		}
		if again != ruleset || ccdText(ccd2) != ccdText(ccd) {
			t.Fatalf("got a different rendering for the same input in another order")
		}
	})
	t.Run("ok/the kernel accepts it", func(t *testing.T) {
		nft := testenv.Nft(t)
		if err := Check(context.Background(), nft, ruleset); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fail/the kernel refuses a broken one", func(t *testing.T) {
		nft := testenv.Nft(t)
		broken := strings.Replace(ruleset, "ct state related accept", "ct state related acept", 1)
		err := Check(context.Background(), nft, broken)
		if err == nil || !strings.Contains(err.Error(), "Error: syntax error") {
			t.Fatalf("got %v, want nft's syntax error", err)
		}
	})
}

func TestRenderEdges(t *testing.T) {
	srv := Server{Name: "dc2", Subnet: netip.MustParsePrefix("10.9.0.0/24")}
	everything := access.Group{Name: "all", Rules: mustRules(t, "0.0.0.0/0", "10.1.0.0/16:tcp/22")}
	cases := []struct {
		name       string
		members    []Member
		groups     []access.Group
		wantCCD    string
		wantInRule string
	}{
		{"ok/nobody and no group", nil, nil, "", "\tmap members {\n\t\ttype ipv4_addr : verdict\n\t}\n"},
		{"ok/everything becomes redirect-gateway",
			[]Member{{User: "root", Address: netip.MustParseAddr("10.9.0.7"), Groups: []string{"all"}}},
			[]access.Group{everything},
			"# vpnkeys: root on dc2; groups: all\nifconfig-push 10.9.0.7 255.255.255.0\npush \"redirect-gateway def1\"\n",
			"ip daddr 0.0.0.0/0 accept"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ruleset, ccd, err := Render(srv, c.members, c.groups)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(ccd["root"]); got != c.wantCCD {
				t.Errorf("CCD: got %q, want %q", got, c.wantCCD)
			}
			if !strings.Contains(ruleset, c.wantInRule) || !strings.Contains(ruleset, "IPv6 is not judged") {
				t.Errorf("ruleset: got\n%s\nwant it to hold %q and say IPv6 is not judged", ruleset, c.wantInRule)
			}
			if err := Check(context.Background(), testenv.Nft(t), ruleset); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenderInvalid(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Server, []Member, []access.Group) ([]Member, []access.Group)
		want string
	}{
		{"fail/IPv6 subnet", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			s.Subnet = netip.MustParsePrefix("fd00::/64")
			return m, g
		}, `subnet "fd00::/64"`},
		{"fail/server name with a newline", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			s.Name = "dc1\nflush ruleset"
			return m, g
		}, "server: invalid input"},
		{"fail/device with a quote", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			s.Device = `tun0" accept`
			return m, g
		}, "device"},
		{"fail/address outside", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].Address = netip.MustParseAddr("10.9.0.2")
			return m, g
		}, "address 10.9.0.2 is outside 10.8.0.0/24"},
		{"fail/server's address", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].Address = netip.MustParseAddr("10.8.0.1")
			return m, g
		}, "the server's"},
		{"fail/broadcast", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].Address = netip.MustParseAddr("10.8.0.255")
			return m, g
		}, "broadcast"},
		{"fail/shared address", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].Address = m[1].Address
			return m, g
		}, "share address"},
		{"fail/same user twice", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].User = m[1].User
			return m, g
		}, "given twice"},
		{"fail/bad user name", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].User = "../etc"
			return m, g
		}, `"../etc"`},
		{"fail/unknown group", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			m[0].Groups = []string{"nobody"}
			return m, g
		}, `no group "nobody"`},
		{"fail/bad group name", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			g[0].Name = "Sales;"
			return m, g
		}, `"Sales;"`},
		{"fail/rule not canonical", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			g[0].Rules[0].Proto = "tcp; flush ruleset"
			return m, g
		}, "not in canonical form"},
		{"fail/unmasked rule", func(s *Server, m []Member, g []access.Group) ([]Member, []access.Group) {
			g[0].Rules[0].Net = netip.MustParsePrefix("10.3.4.5/24")
			return m, g
		}, "not in canonical form"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, members, groups := fixture(t)
			members, groups = c.edit(&srv, members, groups)
			ruleset, ccd, err := Render(srv, members, groups)
			if !errors.Is(err, account.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an account.ErrInvalid naming %s", err, c.want)
			}
			if ruleset != "" || ccd != nil {
				t.Fatalf("got output with an error")
			}
		})
	}
}

func TestCollapse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"10.1.0.0/16 10.1.5.3/32", "10.1.0.0/16"},
		{"10.2.128.0/17 10.2.0.0/17", "10.2.0.0/16"},
		{"10.0.0.0/24 10.0.1.0/24 10.0.2.0/23", "10.0.0.0/22"},
		{"10.0.1.0/24 10.0.2.0/24", "10.0.1.0/24 10.0.2.0/24"},
		{"10.0.0.1/32 10.0.0.1/32", "10.0.0.1/32"},
		{"", ""},
	}
	for _, c := range cases {
		t.Run("ok/"+c.in, func(t *testing.T) {
			var nets []netip.Prefix
			for _, f := range strings.Fields(c.in) {
				nets = append(nets, netip.MustParsePrefix(f))
			}
			var got []string
			for _, p := range collapse(nets) {
				got = append(got, p.String())
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Fatalf("got %q, want %q", g, c.want)
			}
		})
	}
}
