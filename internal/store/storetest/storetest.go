// Package storetest is the contract every store backend must meet: one
// suite, run on SQLite and on PostgreSQL, so the second backend is tested
// exactly as much as the first.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Opener opens a fresh, empty, migrated database for one test.
type Opener func(t *testing.T) *store.DB

// Run runs the whole contract against databases from open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"ca", testCA},
		{"users", testUsers},
		{"one active certificate", testOneActive},
		{"serials unique", testSerialUnique},
		{"end certificate once", testEndOnce},
		{"crl number grows under concurrency", testCRLNumber},
		{"servers", testServers},
		{"audit", testAudit},
		{"rollback", testRollback},
		{"changes in version order", testChanges},
		{"groups and addresses", func(t *testing.T, db *store.DB) { testGroups(t, db); testAddresses(t, open(t)) }},
		{"agent status and session ends", testAgentStatus},
		{"agent join tokens", testAgentJoins},
		{"server tls mode and tls-crypt-v2 key", testTLSMode},
		{"ca rollover and pending restarts", testRollover},
		{"self-test results and alert claims", testSelfTest}, // selftest.go
		{"expiry warnings claimed once", testWarnings},       // warnings.go
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func cert(serial, subject string) store.Cert {
	return store.Cert{Serial: serial, Kind: store.KindClient, Subject: subject, CertPEM: "pem-" + serial,
		KeySealed: []byte{1, 2, 3}, NotBefore: t0, NotAfter: t0.AddDate(2, 0, 0), State: store.StateActive, CreatedAt: t0}
}

func testCA(t *testing.T, db *store.DB) {
	if _, err := db.Q().GetCA(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetCA on empty: got %v, want ErrNotFound", err)
	}
	ca := store.CA{Algo: "p256", CertPEM: "c", KeyPEM: "k", Encrypted: true, TLSCrypt: []byte{9, 8}, CreatedAt: t0}
	if err := db.Q().PutCA(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if err := db.Q().PutCA(ctx, ca); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second PutCA: got %v, want ErrExists", err)
	}
	got, err := db.Q().GetCA(ctx)
	if err != nil || got.Algo != "p256" || !got.Encrypted || string(got.TLSCrypt) != "\x09\x08" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetCA: got %+v %v", got, err)
	}
}

func testUsers(t *testing.T, db *store.DB) {
	q := db.Q()
	for i, n := range []string{"carol", "alice", "bob"} {
		if err := q.UpsertUser(ctx, store.User{Name: n, Email: n + "@example.com", OS: "linux", Lang: "en", UpdatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.UpsertUser(ctx, store.User{Name: "alice", Email: "new@example.com", FullName: "Alice", OS: "macos", Lang: "fr", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertCert(ctx, cert("0A", "alice")); err != nil {
		t.Fatal(err)
	}
	if err := q.SetCurrentSerial(ctx, "alice", "0A"); err != nil {
		t.Fatal(err)
	}
	u, err := q.GetUser(ctx, "alice")
	if err != nil || u.Email != "new@example.com" || u.OS != "macos" || u.Cert == nil || u.Cert.Serial != "0A" || len(u.Cert.KeySealed) != 3 {
		t.Fatalf("GetUser: got %+v %v", u, err)
	}
	if _, err := q.GetUser(ctx, "dave"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser unknown: got %v, want ErrNotFound", err)
	}
	all, err := q.ListUsers(ctx, store.UserFilter{})
	if err != nil || len(all) != 3 || all[0].Name != "alice" || all[2].Name != "carol" {
		t.Fatalf("ListUsers: got %v %v, want alice, bob, carol", names(all), err)
	}
	if all[0].Cert == nil || all[0].Cert.KeySealed != nil {
		t.Fatal("ListUsers without WithKeys returned a sealed key")
	}
	found, _ := q.ListUsers(ctx, store.UserFilter{Search: "NEW@"})
	none, _ := q.ListUsers(ctx, store.UserFilter{State: "none"})
	active, _ := q.ListUsers(ctx, store.UserFilter{State: "active", Now: t0.Unix()})
	page, _ := q.ListUsers(ctx, store.UserFilter{Limit: 1, Offset: 1})
	n, _ := q.CountUsers(ctx, store.UserFilter{State: "none"})
	if len(found) != 1 || len(none) != 2 || len(active) != 1 || len(page) != 1 || page[0].Name != "bob" || n != 2 {
		t.Fatalf("filters: search %v, none %v, active %v, page %v, count %d", names(found), names(none), names(active), names(page), n)
	}
}

func names(us []store.UserCert) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func testOneActive(t *testing.T, db *store.DB) {
	if err := db.Q().InsertCert(ctx, cert("01", "alice")); err != nil {
		t.Fatal(err)
	}
	if err := db.Q().InsertCert(ctx, cert("02", "alice")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second active certificate: got %v, want ErrConflict", err)
	}
	if err := db.Q().EndCert(ctx, "01", store.StateRevoked, t0.Unix(), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if err := db.Q().InsertCert(ctx, cert("02", "alice")); err != nil {
		t.Fatalf("active certificate after revocation: %v", err)
	}
	// Many writers race to give bob his first certificate: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.WithTx(ctx, func(q *store.Queries) error {
				return q.InsertCert(ctx, cert(fmt.Sprintf("B%02d", i), "bob"))
			})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("racing insert: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("racing inserts: got %d winners, want 1", wins)
	}
}

func testSerialUnique(t *testing.T, db *store.DB) {
	if err := db.Q().InsertCert(ctx, cert("AA", "alice")); err != nil {
		t.Fatal(err)
	}
	if err := db.Q().InsertCert(ctx, cert("AA", "bob")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reused serial: got %v, want ErrConflict", err)
	}
}

func testEndOnce(t *testing.T, db *store.DB) {
	db.Q().InsertCert(ctx, cert("01", "alice"))
	if err := db.Q().EndCert(ctx, "01", store.StateRevoked, t0.Unix(), "unspecified"); err != nil {
		t.Fatal(err)
	}
	if err := db.Q().EndCert(ctx, "01", store.StateRevoked, t0.Unix(), "unspecified"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second revocation: got %v, want ErrConflict", err)
	}
	rev, err := db.Q().Revoked(ctx)
	if err != nil || len(rev) != 1 || rev[0].Serial != "01" || rev[0].Reason != "unspecified" {
		t.Fatalf("Revoked: got %+v %v", rev, err)
	}
	certs, _ := db.Q().CertsOf(ctx, store.KindClient, "alice")
	if len(certs) != 1 || certs[0].State != store.StateRevoked || !certs[0].RevokedAt.Equal(t0) {
		t.Fatalf("CertsOf: got %+v", certs)
	}
}

func testCRLNumber(t *testing.T, db *store.DB) {
	const workers, each = 6, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := db.WithTx(ctx, func(q *store.Queries) error {
					n, err := q.NextCRLNumber(ctx)
					if err != nil {
						return err
					}
					if err := q.SaveCRL(ctx, store.CRL{Number: n, DER: []byte(fmt.Sprint(n)), ThisUpdate: t0, NextUpdate: t0}); err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if seen[n] {
						return fmt.Errorf("CRL number %d handed out twice", n)
					}
					seen[n] = true
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	c, err := db.Q().GetCRL(ctx)
	if err != nil || c.Number != workers*each || string(c.DER) != fmt.Sprint(workers*each) {
		t.Fatalf("GetCRL: got #%d %q %v, want #%d", c.Number, c.DER, err, workers*each)
	}
}

func testServers(t *testing.T, db *store.DB) {
	q := db.Q()
	for i, n := range []string{"dc2", "dc1"} {
		if err := q.InsertServer(ctx, store.Server{Name: n, Host: n + ".example.com", Port: 1194, Proto: "udp", Subnet: "10.8.0.0/24", CreatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.InsertServer(ctx, store.Server{Name: "dc1"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate server: got %v, want ErrExists", err)
	}
	list, err := q.ListServers(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "dc2" {
		t.Fatalf("ListServers: got %+v %v, want dc2 first (added first)", list, err)
	}
	for range 2 {
		if err := q.RecordServerOutput(ctx, store.ServerOutput{Server: "dc1", Host: "h1", Dir: "/etc/openvpn/server", WrittenAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := q.ServerOutputs(ctx, "h1")
	if err != nil || len(outs) != 1 {
		t.Fatalf("ServerOutputs: got %+v %v, want one", outs, err)
	}
	if other, _ := q.ServerOutputs(ctx, "h2"); len(other) != 0 {
		t.Fatalf("ServerOutputs of another host: got %+v", other)
	}
}

func testAudit(t *testing.T, db *store.DB) {
	for i, target := range []string{"alice", "bob", "alice"} {
		if err := db.Q().InsertAudit(ctx, store.AuditEvent{At: t0, Actor: "cli:root", Source: "host h", Action: fmt.Sprintf("a%d", i), Target: target, Detail: `{"k":1}`}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := db.Q().ListAudit(ctx, store.AuditFilter{Target: "alice"})
	if err != nil || len(evs) != 2 || evs[0].Action != "a2" || evs[1].Action != "a0" {
		t.Fatalf("ListAudit: got %+v %v, want a2 then a0", evs, err)
	}
	older, _ := db.Q().ListAudit(ctx, store.AuditFilter{Before: evs[0].ID, Limit: 1})
	if len(older) != 1 || older[0].Action != "a1" {
		t.Fatalf("ListAudit paging: got %+v, want a1", older)
	}
}

func testRollback(t *testing.T, db *store.DB) {
	boom := errors.New("boom")
	err := db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.UpsertUser(ctx, store.User{Name: "ghost", OS: "linux", Lang: "en", UpdatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx: got %v, want boom", err)
	}
	if _, err := db.Q().GetUser(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user of a rolled-back transaction: got %v, want ErrNotFound", err)
	}
}

// testChanges: versions come from one counter, never twice, never out of
// order; a rolled-back change leaves no row and "since N" is one query.
func testChanges(t *testing.T, db *store.DB) {
	if v, err := db.Q().Version(ctx); err != nil || v != 0 {
		t.Fatalf("Version on empty: got %d %v, want 0", v, err)
	}
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.WithTx(ctx, func(q *store.Queries) error {
					_, err := q.RecordChange(ctx, store.Change{At: 1, Kind: "crl", Subject: fmt.Sprintf("w%d-%d", w, i)})
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	db.WithTx(ctx, func(q *store.Queries) error {
		q.RecordChange(ctx, store.Change{At: 1, Kind: "crl", Subject: "rolled back"})
		return errors.New("roll back")
	})
	all, err := db.Q().ChangesSince(ctx, 0, 0)
	if err != nil || len(all) != workers*each {
		t.Fatalf("ChangesSince(0): got %d %v, want %d", len(all), err, workers*each)
	}
	for i, c := range all {
		if c.Version != int64(i+1) || c.Subject == "rolled back" {
			t.Fatalf("change %d: got version %d %q, want %d in order", i, c.Version, c.Subject, i+1)
		}
	}
	if v, _ := db.Q().Version(ctx); v != workers*each {
		t.Fatalf("Version: got %d, want %d", v, workers*each)
	}
	later, err := db.Q().ChangesSince(ctx, 35, 3)
	if err != nil || len(later) != 3 || later[0].Version != 36 {
		t.Fatalf("ChangesSince(35, 3): got %+v %v", later, err)
	}
}
