package authority

import (
	"context"
	"fmt"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// BenchmarkAddUser issues one full P-256 bundle per op: key, certificate,
// database transaction, rendered profile and readme, folder, .tar.gz and
// .zip, all durable on disk. The CA is already unlocked.
func BenchmarkAddUser(b *testing.B) {
	f := newFixture(b, pki.P256)
	f.addServer(b, "dc1", "vpn1.example.com:1194")
	f.addServer(b, "dc2", "vpn2.example.com:443/tcp")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := f.a.AddUsers(ctx, []UserRequest{{Name: fmt.Sprintf("u%d", i)}}, AddOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddUsers100 onboards 100 users in one call per op; ns/op / 100
// is the bulk cost per user.
func BenchmarkAddUsers100(b *testing.B) {
	f := newFixture(b, pki.P256)
	f.addServer(b, "dc1", "vpn1.example.com:1194")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		reqs := make([]UserRequest, 100)
		for j := range reqs {
			reqs[j] = UserRequest{Name: fmt.Sprintf("u%d-%d", i, j)}
		}
		if _, err := f.a.AddUsers(ctx, reqs, AddOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100)/1e6, "ms/user")
}

// BenchmarkUnlock is the passphrase's key derivation plus opening the
// tls-crypt key: what every CLI call that signs pays once.
func BenchmarkUnlock(b *testing.B) {
	f := newFixture(b, pki.P256)
	ctx := context.Background()
	for b.Loop() {
		if err := f.reopen().Unlock(ctx, pki.Passphrase(testPass)); err != nil {
			b.Fatal(err)
		}
	}
}
