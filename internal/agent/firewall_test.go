package agent

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/firewall"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// nftIn is an nft "binary" that runs the real nft inside network
// namespace ns, so the test's rulesets never reach the host's kernel
// tables.
func nftIn(t *testing.T, ns string) string {
	t.Helper()
	nft := testenv.Nft(t)
	ip := testenv.LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip")
	p := filepath.Join(t.TempDir(), "nft")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec "+ip+" netns exec "+ns+" "+nft+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// fwState is simpleState with a client-config file per user and the
// ruleset that lets each user (10.8.0.2 upward) reach dest on tcp/22.
func fwState(t *testing.T, version int64, dest string, users ...string) agentwire.State {
	t.Helper()
	st := simpleState("port 1194\n", "CRL-1")
	st.Version = version
	rule, err := access.ParseRule(dest + ":tcp/22")
	if err != nil {
		t.Fatal(err)
	}
	var members []firewall.Member
	addr := netip.MustParseAddr("10.8.0.2")
	for _, u := range users {
		members = append(members, firewall.Member{User: u, Address: addr, Groups: []string{"staff"}})
		addr = addr.Next()
	}
	ruleset, ccd, err := firewall.Render(firewall.Server{Name: "dc1", Subnet: netip.MustParsePrefix("10.8.0.0/24"), Device: "vpn-dc1"},
		members, []access.Group{{Name: "staff", Rules: []access.Rule{rule}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		st.Files = append(st.Files, agentwire.File{Name: agentwire.CCDPrefix + u, Mode: 0o644, Data: ccd[u]})
	}
	st.Firewall = ruleset
	st.Hash = hashOf(st)
	return st
}

// TestFirewallApply: the agent writes ccd/ with the other files, removes
// the file of a user no longer present, and loads the ruleset into the
// (namespace's) kernel; a ruleset the kernel refuses leaves the previous
// table in force, is counted and reported, and the next good one loads.
func TestFirewallApply(t *testing.T) {
	ctx := context.Background()
	ns := testenv.NewPlainNetns(t, "agent-fw")
	dir := filepath.Join(t.TempDir(), "server")
	r := offlineRunner(t, dir)
	r.cfg.Nft = nftIn(t, ns)
	table := func() string {
		out, err := exec.Command(r.cfg.Nft, "list", "table", "inet", "vpnkeys").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list table: %v\n%s", err, out)
		}
		return string(out)
	}

	t.Run("ok/files-and-ruleset", func(t *testing.T) {
		if err := r.take(ctx, fwState(t, 1, "10.1.0.0/16", "alice", "bob")); err != nil {
			t.Fatal(err)
		}
		if got := ccdNames(t, dir); !slices.Equal(got, []string{"alice", "bob"}) {
			t.Fatalf("ccd/: got %v, want [alice bob]", got)
		}
		checkMode(t, filepath.Join(dir, "ccd"), 0o755)
		checkMode(t, filepath.Join(dir, "ccd", "alice"), 0o644)
		if got := table(); !strings.Contains(got, "10.1.0.0/16") || !strings.Contains(got, "10.8.0.3") {
			t.Fatalf("table in force: got\n%s\nwant alice's and bob's rule to 10.1.0.0/16", got)
		}
		if rep := r.report(); rep.Error != "" || rep.Hashes["ccd/"] == "" || len(rep.Hashes) != 5 {
			t.Fatalf("report: got error %q, hashes %v; want no error, the 4 files and one ccd/ digest", rep.Error, rep.Hashes)
		}
	})

	t.Run("fail/refused-ruleset-keeps-the-old-one", func(t *testing.T) {
		bad := fwState(t, 2, "10.2.0.0/16", "bob", "carol")
		bad.Firewall = strings.Replace(bad.Firewall, " accept #", " acceptx #", 1)
		bad.Hash = hashOf(bad)
		if err := r.take(ctx, bad); err != nil {
			t.Fatalf("take: got %v, want the files applied and the ruleset's refusal reported", err)
		}
		if got := table(); !strings.Contains(got, "10.1.0.0/16") || strings.Contains(got, "10.2.0.0/16") {
			t.Fatalf("table in force: got\n%s\nwant the previous ruleset (10.1.0.0/16)", got)
		}
		if got := ccdNames(t, dir); !slices.Equal(got, []string{"bob", "carol"}) {
			t.Fatalf("ccd/: got %v, want [bob carol] (alice's file removed)", got)
		}
		rep := r.report()
		if !strings.Contains(rep.Error, "version 2: firewall not applied") || !strings.Contains(rep.Error, "acceptx") {
			t.Fatalf("report error: got %q, want the refusal with nft's message", rep.Error)
		}
		if got := scrape(t, r.m); !strings.Contains(got, "vpnkeys_agent_apply_errors_total 1\n") {
			t.Fatalf("metrics: got\n%s\nwant 1 apply error", got)
		}
	})

	t.Run("ok/next-good-ruleset-loads", func(t *testing.T) {
		if err := r.take(ctx, fwState(t, 3, "10.3.0.0/16", "bob")); err != nil {
			t.Fatal(err)
		}
		if got := table(); !strings.Contains(got, "10.3.0.0/16") || strings.Contains(got, "10.1.0.0/16") {
			t.Fatalf("table in force: got\n%s\nwant the new ruleset (10.3.0.0/16)", got)
		}
		if rep := r.report(); rep.Error != "" {
			t.Fatalf("report error: got %q, want none once a ruleset loads", rep.Error)
		}
	})

	t.Run("ok/empty-ruleset-removes-nothing", func(t *testing.T) {
		st := fwState(t, 4, "10.4.0.0/16", "bob")
		st.Firewall = ""
		st.Hash = hashOf(st)
		if err := r.take(ctx, st); err != nil {
			t.Fatal(err)
		}
		if got := table(); !strings.Contains(got, "10.3.0.0/16") {
			t.Fatalf("table in force: got\n%s\nwant the last ruleset left alone", got)
		}
	})
}

// TestFirewallWithoutNft: a state with a ruleset on a host without nft
// applies its files and reports the missing nft.
func TestFirewallWithoutNft(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "server")
	r := offlineRunner(t, dir)
	r.cfg.Nft = filepath.Join(t.TempDir(), "no-nft")
	if err := r.take(context.Background(), fwState(t, 1, "10.1.0.0/16", "alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ccd", "alice")); err != nil {
		t.Fatalf("ccd/alice: %v", err)
	}
	if rep := r.report(); !strings.Contains(rep.Error, "firewall not applied") || !strings.Contains(rep.Error, "no-nft") {
		t.Fatalf("report error: got %q, want the missing nft", rep.Error)
	}
}

// ccdNames lists dir/ccd.
func ccdNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "ccd"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestOwnTableOnly: a state's ruleset may touch table inet vpnkeys and
// nothing else; anything else rejects the state before a file is written.
func TestOwnTableOnly(t *testing.T) {
	rendered := fwState(t, 1, "10.1.0.0/16", "alice").Firewall
	for name, rs := range map[string]string{
		"ok/rendered":            rendered,
		"ok/braces in a comment": "# a { b } c ; flush ruleset\ntable inet vpnkeys\ndelete table inet vpnkeys\ntable inet vpnkeys { chain c { iifname \"x}\" drop; } }\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := ownTableOnly(rs); err != nil {
				t.Fatalf("got %v, want nil", err)
			}
		})
	}
	for name, rs := range map[string]string{
		"fail/flush ruleset":       "flush ruleset\n" + rendered,
		"fail/after the table":     rendered + "delete table ip filter\n",
		"fail/semicolon":           "table inet vpnkeys; flush ruleset\n",
		"fail/another table block": rendered + "table ip filter { chain input { type filter hook input priority 0; policy drop; } }\n",
		"fail/unbalanced":          "table inet vpnkeys { chain c {\n",
		"fail/stray brace":         "}\nflush ruleset\n",
		"fail/include":             "include \"/etc/nftables.conf\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := ownTableOnly(rs); err == nil {
				t.Fatal("got nil, want an error")
			}
			st := fwState(t, 1, "10.1.0.0/16", "alice")
			st.Firewall = rs
			if err := Validate(st, "dc1"); err == nil {
				t.Fatal("Validate: got nil, want the state rejected")
			}
		})
	}
}
