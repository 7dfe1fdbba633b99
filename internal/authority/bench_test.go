package authority

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
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

// BenchmarkImportEasyRSA5000 loads and imports an easy-rsa PKI of 5,000
// users (P-256, every key in private/, 100 revoked) into a fresh database
// per op. The folder is made once, in easy-rsa's layout, by easyrsa.Write.
func BenchmarkImportEasyRSA5000(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "pki")
	now := time.Now()
	caKey, _ := pki.GenerateKey(pki.P256)
	ca, err := pki.NewCA(caKey, "Bench CA", 3650, now)
	if err != nil {
		b.Fatal(err)
	}
	keyPEM, _ := pki.MarshalKey(caKey)
	x := easyrsa.Export{CACertPEM: pki.CertPEM(ca.Cert), CAKeyPEM: keyPEM}
	for i := range 5000 {
		k, _ := pki.GenerateKey(pki.P256)
		c, err := ca.Issue(pki.Leaf{Role: pki.Client, CommonName: fmt.Sprintf("user%04d", i), PublicKey: k.Public(), Now: now})
		if err != nil {
			b.Fatal(err)
		}
		kp, _ := pki.MarshalKey(k)
		ec := easyrsa.ExportCert{Cert: c, KeyPEM: kp, Status: 'V', Current: true}
		if i%50 == 0 {
			ec.Status, ec.Current, ec.RevokedAt, ec.Reason = 'R', false, now, "keyCompromise"
		}
		x.Certs = append(x.Certs, ec)
	}
	crl, _ := ca.CreateCRL(1, nil, now, now.AddDate(1, 0, 0))
	x.CRLPEM = pki.CRLPEM(crl)
	if err := easyrsa.Write(dir, x); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(ctx, filepath.Join(b.TempDir(), "vpnkeys.db"))
		if err != nil {
			b.Fatal(err)
		}
		a := New(db, Options{DataDir: b.TempDir()})
		b.StartTimer()
		sum, err := a.ImportEasyRSA(ctx, dir, ImportOptions{})
		if err != nil || sum.Users != 5000 || sum.Revoked != 100 {
			b.Fatalf("import: %+v %v", sum, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// benchRoster onboards a 10,000-row roster (parsed from CSV) per op on a
// fresh database: one CA unlock, batches of 256 in one transaction each.
func benchRoster(b *testing.B, dsn func(b *testing.B) string, noBundles bool) {
	var csv bytes.Buffer
	csv.WriteString("user,email,name,os,lang\n")
	for i := range 10000 {
		fmt.Fprintf(&csv, "user%05d,user%05d@example.com,\"Employee %d\",%s,en\n", i, i, i, []string{"linux", "macos", "windows"}[i%3])
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(ctx, dsn(b))
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		a := New(db, Options{DataDir: dir})
		if err := a.Init(ctx, InitRequest{Algo: pki.P256, Passphrase: pki.Passphrase(testPass)}); err != nil {
			b.Fatal(err)
		}
		a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn.example.com:1194", Subnet: "10.8.0.0/16"}) // room for 10,000 fixed addresses
		a = New(db, Options{DataDir: dir})
		b.StartTimer()
		if err := a.Unlock(ctx, pki.Passphrase(testPass)); err != nil {
			b.Fatal(err)
		}
		ro, err := ReadRoster(bytes.NewReader(csv.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		res, err := a.ImportRoster(ctx, ro, AddOptions{NoBundles: noBundles})
		if err != nil || res.Issued != 10000 || len(res.Refused) != 0 {
			b.Fatalf("%+v %v", res.Issued, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

func sqliteDSN(b *testing.B) string   { return filepath.Join(b.TempDir(), "vpnkeys.db") }
func postgresDSN(b *testing.B) string { return pgtest.Start(b) }

func BenchmarkRoster10000SQLite(b *testing.B)          { benchRoster(b, sqliteDSN, false) }
func BenchmarkRoster10000SQLiteNoBundles(b *testing.B) { benchRoster(b, sqliteDSN, true) }
func BenchmarkRoster10000Postgres(b *testing.B)        { benchRoster(b, postgresDSN, false) }
func BenchmarkRoster10000PostgresNoBundles(b *testing.B) {
	benchRoster(b, postgresDSN, true)
}

// BenchmarkRevoke3000 revokes 3,000 users in one call per op: one
// transaction, one CRL signed for the whole call (listing all 3,000), the
// CRL published, the bundles removed. Users are onboarded (without
// bundles) outside the timer.
func BenchmarkRevoke3000(b *testing.B) {
	f := newFixture(b, pki.P256)
	f.addServer(b, "dc1", "vpn1.example.com:1194")
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		names := make([]string, 3000)
		for j := range names {
			names[j] = fmt.Sprintf("r%d-%04d", i, j)
		}
		f.add(b, AddOptions{NoBundles: true}, names...)
		b.StartTimer()
		if _, err := f.a.RevokeUsers(ctx, names, "cessation-of-operation"); err != nil {
			b.Fatal(err)
		}
	}
}
