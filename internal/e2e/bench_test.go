package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// BenchmarkTwoInstancesIssue: issuance throughput of two `vpnkeys serve`
// processes on one PostgreSQL, 8 clients spread over both, each request a
// new user (key, certificate, transaction, bundle on disk).
func BenchmarkTwoInstancesIssue(b *testing.B) {
	dsn := pgtest.Start(b)
	dir := b.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("bench passphrase\n"), 0o600)
	env := []string{"VPNKEYS_PASSPHRASE_FILE=" + pass, "VPNKEYS_DB=" + dsn}
	cli(b, env, "--data", filepath.Join(dir, "d0"), "init")
	cli(b, env, "--data", filepath.Join(dir, "d0"), "server", "add", "dc1", "--remote", "vpn.example.com:1194")
	token := strings.TrimSpace(cli(b, env, "--data", filepath.Join(dir, "d0"), "token", "create", "bench"))
	insts := []*instance{
		startInstance(b, env, "--data", filepath.Join(dir, "d1")),
		startInstance(b, env, "--data", filepath.Join(dir, "d2")),
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: time.Minute}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if int(i) >= b.N {
					return
				}
				in := insts[w%2]
				req, _ := http.NewRequest("POST", in.base+"/api/v1/users", strings.NewReader(fmt.Sprintf(`{"name":"b%d"}`, i)))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "certs/s")
}
