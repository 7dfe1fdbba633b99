package authority

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkWarningRun10000: one pass of expiry warnings with 10,000 users
// due (SQLite), each mailed through the in-process go-smtp server over
// loopback (STARTTLS, AUTH): claim, renewal link, mail, record, audit.
// The records are dropped between runs so every run sends all 10,000.
//
//	go test ./internal/authority -run '^$' -bench BenchmarkWarningRun10000 -benchtime 1x
func BenchmarkWarningRun10000(b *testing.B) {
	ctx := context.Background()
	e := newWarnEnv(b, warnBackends["sqlite"](b))
	const users = 10_000
	reqs := make([]UserRequest, users)
	for i := range reqs {
		reqs[i] = UserRequest{Name: fmt.Sprintf("u%05d", i), Email: fmt.Sprintf("u%05d@example.com", i), Lang: []string{"en", "de", "fr", "es", "ru"}[i%5]}
	}
	if _, err := e.a.AddUsers(ctx, reqs, AddOptions{NoBundles: true, Days: 20}); err != nil {
		b.Fatal(err)
	}
	days := []int{30, 7, 1}
	var sent int
	b.ResetTimer()
	for b.Loop() {
		res, err := e.a.SendWarnings(ctx, e.m, days)
		if err != nil || res.Sent != users {
			b.Fatalf("got %d sent, %v; want %d", res.Sent, err, users)
		}
		sent += res.Sent
		b.StopTimer()
		if _, err := e.db.SQL().ExecContext(ctx, `DELETE FROM expiry_warnings`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "mails/s")
}
