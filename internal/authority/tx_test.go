package authority

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestOneRetryHelper keeps doc.go's promise that every write transaction
// retries a lost race: outside tx.go, nothing opens a transaction but
// through withRetry (or txOnce, inside an attempt that retry runs whole).
func TestOneRetryHelper(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "tx.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), ".db.WithTx("); n > 0 {
			t.Errorf("%s: got %d calls of a.db.WithTx, want 0 (use withRetry, see tx.go)", f, n)
		}
	}
}

// TestServerCertRace: several processes render a new server's files at
// once. Each finds no certificate and signs one; the losers of the race to
// record it read again and hand out the winner's, so every call succeeds
// and the server ends with one active certificate.
func TestServerCertRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn.example.com:1194")
	const procs = 4
	auths := make([]*Authority, procs)
	for i := range auths {
		auths[i] = f.reopen()
		if err := auths[i].Unlock(ctx, pki.Passphrase(testPass)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	certs := make([][]byte, procs)
	errs := make([]error, procs)
	start := make(chan struct{})
	for i, a := range auths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			files, err := a.ServerFiles(ctx, "dc1")
			errs[i] = err
			for _, f := range files {
				if f.Name == "server.crt" {
					certs[i] = f.Data
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: got %v, want its files", i, err)
		}
		if !bytes.Equal(certs[i], certs[0]) {
			t.Fatalf("process %d: got another certificate than process 0, want the one recorded", i)
		}
	}
	active, err := f.db.Q().CertsOf(ctx, store.KindServer, "dc1")
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].State != store.StateActive {
		t.Fatalf("got %d certificates of dc1, want one, active", len(active))
	}
}
