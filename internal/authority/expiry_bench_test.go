package authority

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// BenchmarkExpiryScan100000: the expiring list for 30 days over 100,000
// certificate rows in SQLite (active ones spread evenly over 825 days, one
// in ten superseded or revoked), so about 3,300 are due. Rows are inserted
// directly: signing 100,000 certificates would measure the signing.
//
//	go test ./internal/authority -run '^$' -bench BenchmarkExpiryScan100000 -benchtime 20x
func BenchmarkExpiryScan100000(b *testing.B) {
	ctx := context.Background()
	f, clk := newClockFixture(b, 3650, 0)
	now := clk.Now()
	err := f.db.WithTx(ctx, func(q *store.Queries) error {
		for i := range 100_000 {
			c := store.Cert{Serial: fmt.Sprintf("%032X", i+1), Kind: store.KindClient, Subject: fmt.Sprintf("u%06d", i),
				CertPEM: "-", NotBefore: now, NotAfter: now.Add(time.Duration(i%825)*24*time.Hour + time.Hour),
				State: store.StateActive, CreatedAt: now}
			switch {
			case i%10 == 9:
				c.State, c.RevokedAt, c.Reason = store.StateRevoked, now, "superseded"
			case i%10 == 8:
				c.State = store.StateSuperseded
			case i%50 == 0:
				c.Kind = store.KindServer
			}
			if err := q.InsertCert(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var n int
	for b.Loop() {
		list, err := f.a.Expiring(ctx, 30*24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		n = len(list)
	}
	b.ReportMetric(float64(n), "due")
}
