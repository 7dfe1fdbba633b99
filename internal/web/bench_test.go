package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// load runs n requests from `clients` goroutines over loopback and reports
// requests per second and the 99th percentile latency.
func load(b *testing.B, clients int, do func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if err := do(i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func transport() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// BenchmarkLinkDownload: POST /l/{token} (the one-time download) with 8
// clients, each link used once.
func BenchmarkLinkDownload(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{}); err != nil {
		b.Fatal(err)
	}
	links := make([]string, b.N)
	for i := range links {
		l, err := e.a.CreateLink(ctx, "alice", 0)
		if err != nil {
			b.Fatal(err)
		}
		links[i] = l.URL
	}
	c := transport()
	b.ResetTimer()
	load(b, 8, func(i int) error {
		resp, err := c.PostForm(links[i], url.Values{"format": {"ovpn"}})
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// BenchmarkLinkPage: GET /l/{token} (the instructions page) with 8 clients.
func BenchmarkLinkPage(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	e.a.AddUsers(ctx, []authority.UserRequest{{Name: "alice"}}, authority.AddOptions{})
	l, _ := e.a.CreateLink(ctx, "alice", 0)
	c := transport()
	b.ResetTimer()
	load(b, 8, func(int) error {
		resp, err := c.Get(l.URL)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// BenchmarkCreateUser: POST /api/v1/users (a new user each: key,
// certificate, transaction, bundle on disk) with 8 clients.
func BenchmarkCreateUser(b *testing.B) {
	e := newEnv(b, nil)
	b.Cleanup(func() {
		if b.Failed() {
			b.Logf("server log:\n%s", e.logs.String())
		}
	})
	c := transport()
	b.ResetTimer()
	load(b, 8, func(i int) error {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/users", strings.NewReader(fmt.Sprintf(`{"name":"u%d"}`, i)))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}
