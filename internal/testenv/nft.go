package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"testing"
)

// Nft returns the path of the nft binary (Debian's nftables). nft talks to
// the kernel even to check a ruleset (`nft -c`), which needs root: without
// it Missing is called too.
func Nft(t testing.TB) string {
	t.Helper()
	p := LookPath(t, "/usr/sbin/nft", "nft")
	if !IsRoot() {
		Missing(t, "nft needs root to reach the kernel")
	}
	return p
}

// NewPlainNetns makes a network namespace named PREFIX-RANDOM with only lo
// up, for tests that need no OpenVPN (veth pairs, nftables), and deletes
// it when the test ends. It needs root and ip; without them Missing is
// called.
func NewPlainNetns(t testing.TB, prefix string) string {
	t.Helper()
	ip := LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip")
	if !IsRoot() {
		Missing(t, "a network namespace needs root")
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "delete", name).Run() })
	if out, err := exec.Command(ip, "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	return name
}
