package authority

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestProbeCache: a server's agent state carries the same probe profiles
// from version to version (on tls-crypt-v2 each render wraps a new client
// key, so a re-render would show), until what they are made of changes
// (the server's mode) or a probe is due for renewal.
func TestProbeCache(t *testing.T) {
	ctx := context.Background()
	f, clk := newClockFixture(t, 3650, 90) // probes renew 30 days before their end
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc1", TLSMode: "tls-crypt-v2"}); err != nil {
		t.Fatal(err)
	}
	first := mustState(t, f.a, "dc1")
	f.add(t, AddOptions{NoBundles: true}, "alice") // a change: a new version, a new state
	second := mustState(t, f.a, "dc1")
	if second.Version <= first.Version || first.Probe == nil {
		t.Fatalf("versions %d, %d and probe %v: want a new version and a probe", first.Version, second.Version, first.Probe)
	}
	if !bytes.Equal(first.Probe.Valid, second.Probe.Valid) || !bytes.Equal(first.Probe.Revoked, second.Probe.Revoked) {
		t.Fatal("the probe profiles were rendered again for a change that does not touch them")
	}
	if _, err := f.a.SetServer(ctx, ServerChange{Name: "dc1", TLSMode: "tls-auth"}); err != nil {
		t.Fatal(err)
	}
	third := mustState(t, f.a, "dc1")
	if !bytes.Contains(third.Probe.Valid, []byte("<tls-auth>")) {
		t.Fatal("the probe kept its tls-crypt-v2 profile after the switch to tls-auth")
	}
	clk.Add(61 * 24 * time.Hour) // past the renewal point of both probes
	f.add(t, AddOptions{NoBundles: true}, "bob")
	fourth := mustState(t, f.a, "dc1")
	if bytes.Equal(third.Probe.Valid, fourth.Probe.Valid) || bytes.Equal(third.Probe.Revoked, fourth.Probe.Revoked) {
		t.Fatal("the probes were not renewed once due")
	}
}
