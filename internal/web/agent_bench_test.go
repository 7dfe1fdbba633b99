package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// BenchmarkAgentFanout500: 500 agents, one per server, each on its own
// mutual-TLS connection, long-poll one agent listener on loopback. Each
// iteration revokes a user and measures the time from the revoke's
// return to the last agent holding the new version. Also reported: the
// heap held per waiting agent, both ends of its connection counted (the
// agents run in the same process), so an upper bound of serve's share.
//
//	go test ./internal/web -run '^$' -bench AgentFanout500 -benchtime 5x
func BenchmarkAgentFanout500(b *testing.B) {
	const n = 500
	ctx := context.Background()
	e := newAgentEnv(b)
	users := make([]authority.UserRequest, 64)
	for i := range users {
		users[i] = authority.UserRequest{Name: fmt.Sprintf("u%02d", i)}
	}
	if _, err := e.a.AddUsers(ctx, users, authority.AddOptions{NoBundles: true}); err != nil {
		b.Fatal(err)
	}
	var clients []*http.Client
	var names []string
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		if _, err := e.a.AddServer(ctx, authority.ServerRequest{Name: name, Remote: fmt.Sprintf("10.1.%d.%d:1194", i/250, 1+i%250)}); err != nil {
			b.Fatal(err)
		}
		j := e.join(b, e.enroll(b, name))
		if j.pair == nil {
			b.Fatalf("join of %s: %d %s", name, j.status, j.code)
		}
		clients = append(clients, e.client(j.pair))
		names = append(names, name)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	held := make([]atomic.Int64, n) // the version each agent holds
	var waiting atomic.Int64
	stop, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			poll(stop, clients[i], e.url+agentwire.StatePath(names[i]), &held[i], &waiting)
		}()
	}
	latest := func() int64 { v, _, _ := e.a.Changes(ctx, 0, 1); return v }
	waitAll := func(v int64) {
		for i := range held {
			for held[i].Load() < v {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	waitAll(latest())
	for waiting.Load() < n {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)

	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		if _, err := e.a.Revoke(ctx, users[i%len(users)].Name, ""); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		waitAll(latest())
		took = append(took, time.Since(start))
	}
	cancel()
	wg.Wait()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median-to-last-agent")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "ms-worst-to-last-agent")
	b.ReportMetric(float64(during.HeapInuse-before.HeapInuse)/n/1024, "KiB-heap/waiting-agent")
	b.ReportMetric(0, "ns/op")
}

// poll is one agent's loop: ask for the state after the version it
// holds, record each new version, until ctx ends.
func poll(ctx context.Context, c *http.Client, url string, held *atomic.Int64, waiting *atomic.Int64) {
	first := true
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s?since=%d&wait=60", url, held.Load()), nil)
		if !first {
			waiting.Add(1)
		}
		resp, err := c.Do(req)
		if !first {
			waiting.Add(-1)
		}
		first = false
		if err != nil {
			continue
		}
		var st agentwire.State
		if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil {
			held.Store(st.Version)
		}
		io.Copy(io.Discard, resp.Body) // as the agent does: the connection is reused
		resp.Body.Close()
	}
}
