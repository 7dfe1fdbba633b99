package authority

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestLinkOutlivesCertificate: a link is made for one certificate. Once
// that certificate is revoked or replaced, the link hands out nothing and
// is refused without being spent, whatever was issued since.
func TestLinkOutlivesCertificate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, f *fixture)
	}{
		{"fail/revoke-then-reinstate", func(t *testing.T, f *fixture) {
			if _, err := f.a.Revoke(ctx, "alice", "key-compromise"); err != nil {
				t.Fatal(err)
			}
			f.add(t, AddOptions{Reinstate: true}, "alice")
		}},
		{"fail/renew", func(t *testing.T, f *fixture) {
			if _, err := f.a.Renew(ctx, "alice", AddOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"fail/new-key", func(t *testing.T, f *fixture) { f.add(t, AddOptions{NewKey: true}, "alice") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, pki.P256)
			f.addServer(t, "dc1", "vpn.example.com:1194")
			f.add(t, AddOptions{}, "alice")
			l, err := f.a.CreateLink(ctx, "alice", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, f)
			if _, err := f.a.OpenLink(ctx, l.Token); !errors.Is(err, ErrNotActive) {
				t.Errorf("open: got %v, want ErrNotActive", err)
			}
			if d, err := f.a.RedeemLink(ctx, l.Token, "127.0.0.1", false); !errors.Is(err, ErrNotActive) {
				t.Fatalf("redeem: got %d bytes, %v; want ErrNotActive", len(d.Data), err)
			}
			links, _ := f.db.Q().LinksOf(ctx, "alice")
			if len(links) != 1 || links[0].UsedAt != 0 {
				t.Errorf("links after refusal: got %+v, want one, not spent", links)
			}
			// A new link for the new certificate works.
			l2, err := f.a.CreateLink(ctx, "alice", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.a.RedeemLink(ctx, l2.Token, "127.0.0.1", false); err != nil {
				t.Errorf("new link: %v", err)
			}
		})
	}
}

// TestRevokeEveryValidCertificate: a user who holds an older certificate
// that is still valid (an easy-rsa renew without revoke-renewed) loses both
// when revoked: every unexpired certificate of theirs is on the CRL.
func TestRevokeEveryValidCertificate(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice")
	u, _ := f.a.ca()
	key, _ := pki.GenerateKey(pki.P256)
	older, _, err := f.a.issue(u, pki.Client, "alice", key, 0)
	if err != nil {
		t.Fatal(err)
	}
	older.State = store.StateSuperseded // as an import of a renewed PKI left it
	if err := f.db.Q().InsertCert(ctx, older); err != nil {
		t.Fatal(err)
	}
	res, err := f.a.Revoke(ctx, "alice", "key-compromise")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Serials) != 2 {
		t.Fatalf("revoked: got %v, want the active and the older certificate", res.Serials)
	}
	listed := crlSerials(t, res.CRL.PEM)
	for _, s := range res.Serials {
		if !listed[s] {
			t.Errorf("certificate %s is not on the CRL", s)
		}
	}
	if !listed[older.Serial] {
		t.Errorf("the older certificate %s is not on the CRL", older.Serial)
	}
}

func crlSerials(t *testing.T, pemCRL []byte) map[string]bool {
	t.Helper()
	b, _ := pem.Decode(pemCRL)
	if b == nil {
		t.Fatal("no PEM block in the CRL")
	}
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		out[pki.SerialHex(e.SerialNumber)] = true
	}
	return out
}

// TestRevokeRepublishes: a revoke whose crl.pem writes failed after the
// commit is repaired by the same revoke run again, and by SyncCRL.
func TestRevokeRepublishes(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice", "bob")
	srvDir := filepath.Join(t.TempDir(), "server")
	if err := f.a.WriteServerFiles(ctx, "dc1", srvDir); err != nil {
		t.Fatal(err)
	}
	stale := readFile(t, filepath.Join(srvDir, "crl.pem"))
	// crl.pem cannot be replaced: the revoke commits, then fails to publish.
	crl := filepath.Join(srvDir, "crl.pem")
	os.Remove(crl)
	os.Mkdir(crl, 0o755)
	os.WriteFile(filepath.Join(crl, "x"), nil, 0o644)
	if _, err := f.a.Revoke(ctx, "alice", "key-compromise"); err == nil || !strings.Contains(err.Error(), "crl.pem") {
		t.Fatalf("revoke with crl.pem blocked: got %v, want a crl.pem error", err)
	}
	os.RemoveAll(crl)
	os.WriteFile(crl, stale, 0o644)
	res, err := f.a.Revoke(ctx, "alice", "key-compromise")
	if err != nil || !res.AlreadyRevoked {
		t.Fatalf("revoke again: got %+v %v, want AlreadyRevoked", res, err)
	}
	if got := readFile(t, crl); !bytes.Equal(got, res.CRL.PEM) || !crlSerials(t, got)[res.Serial] {
		t.Fatal("revoking again did not publish the newest CRL")
	}
	// SyncCRL (serve runs it periodically) repairs a stale folder too.
	os.WriteFile(crl, stale, 0o644)
	if _, err := f.a.SyncCRL(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, crl); !bytes.Equal(got, res.CRL.PEM) {
		t.Fatal("SyncCRL did not publish the newest CRL")
	}
}

// TestWriteCRLMovesMtime: a CRL of the same size written within the same
// second still changes the file's mtime, so OpenVPN reloads it.
func TestWriteCRLMovesMtime(t *testing.T) {
	p := filepath.Join(t.TempDir(), "crl.pem")
	if _, err := writeCRL(p, []byte("aaaa")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if _, err := writeCRL(p, []byte("bbbb")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if after.ModTime().Unix() <= before.ModTime().Unix() {
		t.Fatalf("mtime: got %v then %v, want a later second", before.ModTime(), after.ModTime())
	}
	if wrote, _ := writeCRL(p, []byte("bbbb")); wrote {
		t.Error("same content written again")
	}
}

// TestReinstate: a revoked user comes back only when asked, and says so.
func TestReinstate(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice", "bob")
	if _, err := f.a.Revoke(ctx, "alice", "affiliation-changed"); err != nil {
		t.Fatal(err)
	}
	before, _ := f.a.CRL(ctx)
	if _, err := f.a.Renew(ctx, "alice", AddOptions{}); !errors.Is(err, ErrRevokedUser) {
		t.Fatalf("renew revoked: got %v, want ErrRevokedUser", err)
	}
	ro, err := ReadRoster(strings.NewReader("user\nalice\nbob\ncarol\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.a.ImportRoster(ctx, ro, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || res.Refused[0].User != "alice" || res.Refused[0].Line != 2 || !strings.Contains(res.Refused[0].Reason, "revoked") {
		t.Fatalf("roster: refused %+v, want alice on line 2", res.Refused)
	}
	if res.Issued != 1 || res.Unchanged != 1 {
		t.Fatalf("roster: got %+v, want carol issued and bob unchanged", res)
	}
	if d, _ := f.a.Show(ctx, "alice"); d.Status != StatusRevoked {
		t.Fatalf("alice after roster: got %s, want revoked", d.Status)
	}
	after, _ := f.a.CRL(ctx)
	if after.Number != before.Number {
		t.Errorf("refusals signed a CRL: #%d -> #%d", before.Number, after.Number)
	}
	r, err := f.a.Renew(ctx, "alice", AddOptions{Reinstate: true})
	if err != nil || !r.Reinstated {
		t.Fatalf("renew with Reinstate: got %+v %v", r, err)
	}
	ev, _ := f.a.Audit(ctx, AuditFilter{Target: "alice"})
	if !hasAction(ev, "user.reinstate") {
		t.Errorf("no user.reinstate in the audit log: %+v", ev)
	}
}

// TestRevokeRemovesBundle: a revoked user's bundle (private key inside)
// does not stay on disk, and the audit log says so.
func TestRevokeRemovesBundle(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice", "bob")
	if _, err := f.a.Revoke(ctx, "alice", "unspecified"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"alice", "alice.tar.gz", "alice.zip"} {
		if _, err := os.Stat(filepath.Join(f.a.BundleDir(), p)); !os.IsNotExist(err) {
			t.Errorf("%s still on disk after revoke (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.a.BundleDir(), "bob", "bob.key")); err != nil {
		t.Errorf("bob's bundle went too: %v", err)
	}
	ev, _ := f.a.Audit(ctx, AuditFilter{Target: "alice"})
	if !hasAction(ev, "user.bundle.remove") {
		t.Errorf("no user.bundle.remove in the audit log")
	}
}

// TestRevokeManyOneCRL: revoking many users signs one CRL, not one each.
func TestRevokeManyOneCRL(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	names := make([]string, 50)
	for i := range names {
		names[i] = fmt.Sprintf("u%02d", i)
	}
	f.add(t, AddOptions{NoBundles: true}, names...)
	before, _ := f.a.CRL(ctx)
	res, err := f.a.RevokeUsers(ctx, names, "cessation-of-operation")
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].CRL.Number - before.Number; got != 1 || res[0].CRL.Revoked != 50 {
		t.Fatalf("got %d CRLs signed listing %d, want 1 listing 50", got, res[0].CRL.Revoked)
	}
	// An unknown name fails the whole call with nothing changed.
	if _, err := f.a.RevokeUsers(ctx, []string{"u00", "nobody"}, "unspecified"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("unknown user: got %v", err)
	}
}

// TestAbandonedPendingRevoked: a certificate a killed run recorded as
// pending (its key maybe in a staged bundle) is revoked once abandoned.
func TestAbandonedPendingRevoked(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	u, _ := f.a.ca()
	key, _ := pki.GenerateKey(pki.P256)
	c, _, err := f.a.issue(u, pki.Client, "ghost", key, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.CreatedAt = store.StatePending, time.Now().Add(-time.Hour)
	if err := f.db.Q().InsertCert(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.add(t, AddOptions{}, "alice") // any add reaps what killed runs left
	crl, _ := f.a.CRL(ctx)
	if !crlSerials(t, crl.PEM)[c.Serial] {
		t.Fatal("the abandoned certificate is not on the CRL")
	}
}

func hasAction(ev []AuditView, action string) bool {
	for _, e := range ev {
		if e.Action == action {
			return true
		}
	}
	return false
}

// TestServerArchiveModes: the archive carries the modes ServerFiles
// decides (keys 0600), so no front end decides them again.
func TestServerArchiveModes(t *testing.T) {
	f := newFixture(t, pki.P256)
	f.addServer(t, "dc1", "vpn.example.com:1194")
	d, err := f.a.ServerArchive(context.Background(), "dc1")
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(d.Data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	modes := map[string]int64{}
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		modes[h.Name] = h.Mode & 0o777
	}
	for name, want := range map[string]int64{"dc1/server.key": 0o600, "dc1/ta.key": 0o600, "dc1/crl.pem": 0o644, "dc1/server.conf": 0o644, "dc1/vpnkeys-session.sh": 0o755} {
		if modes[name] != want {
			t.Errorf("%s: got mode %o, want %o (all: %v)", name, modes[name], want, modes)
		}
	}
}

// TestChangesOutbox: a revocation writes its change and the CRL's in the
// transaction that makes them; "since N" returns only what came after.
func TestChangesOutbox(t *testing.T) {
	f := newFixture(t, pki.P256)
	ctx := context.Background()
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{NoBundles: true}, "alice", "bob")
	v0, _, err := f.a.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Revoke(ctx, "alice", "key-compromise"); err != nil {
		t.Fatal(err)
	}
	v1, changes, err := f.a.Changes(ctx, v0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, c.Kind+":"+c.Subject)
	}
	if v1 != v0+2 || len(changes) != 2 || changes[0].Kind != ChangeRevoke || changes[0].Subject != "alice" || changes[1].Kind != ChangeCRL {
		t.Fatalf("after revoke: version %d -> %d, changes %v; want user.revoke:alice then crl", v0, v1, kinds)
	}
	// A refused revocation records nothing.
	if _, err := f.a.RevokeUsers(ctx, []string{"bob", "nobody"}, ""); err == nil {
		t.Fatal("revoking an unknown user: nil error")
	}
	if v2, _, _ := f.a.Changes(ctx, v1, 0); v2 != v1 {
		t.Fatalf("a refused revocation moved the version: %d -> %d", v1, v2)
	}
}
