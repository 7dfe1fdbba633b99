package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// testTLSMode: a server's control-channel mode defaults to tls-crypt,
// changes, and round-trips; the tls-crypt-v2 server key is stored once,
// by exactly one of several racing writers.
func testTLSMode(t *testing.T, db *store.DB) {
	q := db.Q()
	if _, err := q.TLSCryptV2Key(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TLSCryptV2Key before the CA: got %v, want ErrNotFound", err)
	}
	if err := q.PutCA(ctx, store.CA{Algo: "p256", CertPEM: "c", KeyPEM: "k", TLSCrypt: []byte{1}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertServer(ctx, store.Server{Name: "dc1", Host: "h", Port: 1194, Proto: "udp", Subnet: "10.8.0.0/24", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertServer(ctx, store.Server{Name: "dc2", Host: "h", Port: 1195, Proto: "udp", Subnet: "10.9.0.0/24", CreatedAt: t0, TLSMode: "tls-auth"}); err != nil {
		t.Fatal(err)
	}
	if s, err := q.GetServer(ctx, "dc1"); err != nil || s.TLSMode != "tls-crypt" {
		t.Fatalf("default mode: got %q %v, want tls-crypt", s.TLSMode, err)
	}
	if err := q.SetServerTLSMode(ctx, "dc1", "tls-crypt-v2"); err != nil {
		t.Fatal(err)
	}
	if err := q.SetServerTLSMode(ctx, "nope", "tls-auth"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown server: got %v, want ErrNotFound", err)
	}
	list, err := q.ListServers(ctx)
	if err != nil || len(list) != 2 || list[0].TLSMode != "tls-crypt-v2" || list[1].TLSMode != "tls-auth" {
		t.Fatalf("ListServers: got %+v %v, want tls-crypt-v2 then tls-auth", list, err)
	}
	if k, err := q.TLSCryptV2Key(ctx); err != nil || k != nil {
		t.Fatalf("TLSCryptV2Key: got %x %v, want none yet", k, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := db.Q().PutTLSCryptV2Key(ctx, []byte{byte(i + 1)})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	k, err := q.TLSCryptV2Key(ctx)
	if err != nil || len(k) != 1 || won != 1 {
		t.Fatalf("PutTLSCryptV2Key: got key %x %v with %d winners, want one key, one winner", k, err, won)
	}
}
