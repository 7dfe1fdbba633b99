package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// BenchmarkRevokeToHalt: the time from `vpnkeys revoke` returning to the
// last of the revoked user's sessions ended, with the user connected to
// three real OpenVPN servers each kept by a real agent (the fleet of
// TestAgentsEveryDatacenter). Each iteration revokes a fresh user; the
// median and the worst iteration are reported. Run it with
//
//	go test ./internal/e2e -run '^$' -bench RevokeToHalt -benchtime 7x
func BenchmarkRevokeToHalt(b *testing.B) {
	f := newFleet(b, 3)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		u := fmt.Sprintf("u%d", i)
		mustRun(b, f.env, "add", u)
		profile := keep(b, filepath.Join(f.data, "bundles", u, u+".ovpn"))
		var clients []*testenv.Proc
		for _, d := range f.dcs {
			clients = append(clients, f.dial(b, profile, d))
		}
		f.waitUser(b, u)
		b.StartTimer()
		mustRun(b, f.env, "revoke", u)
		start := time.Now()
		last := waitAll(b, clients, halted, 30*time.Second)
		took = append(took, last.Sub(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "ms-median")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "ms-worst")
	b.ReportMetric(0, "ns/op")
}
