package authority

import (
	"context"
	"fmt"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// BenchmarkRefreshBundles1000 re-renders 1,000 users' bundle folders per
// op (two servers: profiles, readme, archives, one syncfs, one exchange
// per folder), in the temp folder TMPDIR gives; the CA is unlocked.
func BenchmarkRefreshBundles1000(b *testing.B) {
	f := newFixture(b, pki.P256)
	f.addServer(b, "dc1", "vpn1.example.com:1194")
	f.addServer(b, "dc2", "vpn2.example.com:443/tcp")
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("u%04d", i)
	}
	f.add(b, AddOptions{}, names...)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res, err := f.a.RefreshBundles(ctx)
		if err != nil || res.Refreshed != len(names) {
			b.Fatalf("got %+v, %v, want %d refreshed", res, err, len(names))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names))/1e6, "ms/user")
}
