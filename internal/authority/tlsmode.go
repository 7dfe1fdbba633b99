package authority

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/tlscryptv2"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// tlsCryptV2Label binds the sealed tls-crypt-v2 server key to its column.
const tlsCryptV2Label = "tls-crypt-v2"

// v2Key caches the company's tls-crypt-v2 server key in an unlocked CA:
// once stored it never changes.
type v2Key struct {
	mu  sync.Mutex
	key tlscryptv2.ServerKey
}

// changeTLSMode applies `server set --tls-mode` to s inside SetServer's
// transaction ("" changes nothing). The caller audits detail and records
// the change, so agents get the new files at once.
func changeTLSMode(ctx context.Context, q *store.Queries, s *store.Server, mode string, detail map[string]any) error {
	if mode == "" {
		return nil
	}
	m, err := ovpn.ParseTLSMode(mode)
	if err != nil {
		return err
	}
	if err := q.SetServerTLSMode(ctx, s.Name, string(m)); err != nil {
		return err
	}
	detail["tls_mode"] = string(m)
	if old := ovpn.TLSMode(s.TLSMode).OrDefault(); old != m {
		detail["tls_mode_was"] = string(old)
	}
	s.TLSMode = string(m)
	return nil
}

// tlsCryptV2Key returns the company's tls-crypt-v2 server key, making and
// storing it (sealed, as the tls-crypt key) at first need. Two processes
// making it at once both end up with the one stored first.
func (a *Authority) tlsCryptV2Key(ctx context.Context, u *unlockedCA) (tlscryptv2.ServerKey, error) {
	u.v2.mu.Lock()
	defer u.v2.mu.Unlock()
	if !u.v2.key.IsZero() {
		return u.v2.key, nil
	}
	sealed, err := a.db.Q().TLSCryptV2Key(ctx)
	if err != nil {
		return tlscryptv2.ServerKey{}, err
	}
	if sealed == nil {
		if sealed, err = a.makeTLSCryptV2Key(ctx, u); err != nil {
			return tlscryptv2.ServerKey{}, err
		}
	}
	plain, err := u.sealer.Open(sealed, tlsCryptV2Label)
	if err != nil {
		return tlscryptv2.ServerKey{}, fmt.Errorf("opening tls-crypt-v2 key: %w", err)
	}
	if u.v2.key, err = tlscryptv2.ParseServerKey(plain); err != nil {
		return tlscryptv2.ServerKey{}, fmt.Errorf("reading tls-crypt-v2 key: %w", err)
	}
	return u.v2.key, nil
}

// makeTLSCryptV2Key draws the server key, stores it sealed unless another
// process stored one first, and returns what is stored.
func (a *Authority) makeTLSCryptV2Key(ctx context.Context, u *unlockedCA) ([]byte, error) {
	k, err := tlscryptv2.NewServerKey()
	if err != nil {
		return nil, err
	}
	sealed, err := u.sealer.Seal(k.MarshalPEM(), tlsCryptV2Label)
	if err != nil {
		return nil, err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		stored, err := q.PutTLSCryptV2Key(ctx, sealed)
		if err != nil || !stored {
			return err
		}
		return a.audit(ctx, q, "ca.tls-crypt-v2", "ca", nil)
	})
	if err != nil {
		return nil, err
	}
	return a.db.Q().TLSCryptV2Key(ctx)
}

// tlsModeFiles are the files a server's mode adds to ServerFileNames: for
// tls-crypt-v2 the server key, the verify script and the CRL's serials it
// reads. tls-crypt and tls-auth use ta.key, which every folder holds.
func (a *Authority) tlsModeFiles(ctx context.Context, u *unlockedCA, srv store.Server, crlPEM []byte) ([]bundle.File, error) {
	if ovpn.TLSMode(srv.TLSMode) != ovpn.TLSCryptV2 {
		return nil, nil
	}
	k, err := a.tlsCryptV2Key(ctx, u)
	if err != nil {
		return nil, err
	}
	revoked, err := revokedSerials(crlPEM)
	if err != nil {
		return nil, err
	}
	return []bundle.File{
		{Name: ovpn.TLSCryptV2ServerKeyName, Mode: safefile.SecretMode, Data: k.MarshalPEM()},
		{Name: ovpn.TLSCryptV2VerifyName, Mode: hookMode, Data: ovpn.VerifyHook()},
		{Name: ovpn.RevokedSerialsName, Mode: safefile.PublicMode, Data: revoked},
	}, nil
}

// revokedSerials renders revoked-serials from the CRL: the same set of
// serials, so the verify script refuses exactly whom crl-verify would.
func revokedSerials(crlPEM []byte) ([]byte, error) {
	b, _ := pem.Decode(crlPEM)
	if b == nil {
		return nil, errors.New("reading CRL: no PEM block")
	}
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing CRL: %w", err)
	}
	serials := make([]string, len(rl.RevokedCertificateEntries))
	for i, e := range rl.RevokedCertificateEntries {
		serials[i] = pki.SerialHex(e.SerialNumber)
	}
	return ovpn.RevokedSerials(serials), nil
}

// refreshRevokedSerials rewrites dir's revoked-serials from the CRL when
// the folder has one (it holds a tls-crypt-v2 server's files), as crl.pem
// is rewritten beside it.
func refreshRevokedSerials(dir string, crlPEM []byte) error {
	p := filepath.Join(dir, ovpn.RevokedSerialsName)
	cur, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	want, err := revokedSerials(crlPEM)
	if err != nil || bytes.Equal(cur, want) {
		return err
	}
	return safefile.WriteFile(p, want, safefile.PublicMode)
}

// tlsCryptV2ClientKey is a user's tls-crypt-v2 client key for the
// certificate of serial: made anew at each render, never stored, as the
// server unwraps it with the server key it holds.
func tlsCryptV2ClientKey(u *unlockedCA, serial string) ([]byte, error) {
	u.v2.mu.Lock()
	k := u.v2.key
	u.v2.mu.Unlock()
	if k.IsZero() {
		return nil, errors.New("rendering tls-crypt-v2 client key: no server key loaded")
	}
	m, err := tlscryptv2.SerialMetadata(serial)
	if err != nil {
		return nil, err
	}
	return k.NewClientKey(m)
}

// loadTLSCryptV2For loads (or makes) the tls-crypt-v2 server key when a
// profile lists a tls-crypt-v2 server, so render can wrap client keys.
func (a *Authority) loadTLSCryptV2For(ctx context.Context, servers []bundle.Server) error {
	for _, s := range servers {
		if s.TLSMode == ovpn.TLSCryptV2 {
			u, err := a.ca()
			if err != nil {
				return err
			}
			_, err = a.tlsCryptV2Key(ctx, u)
			return err
		}
	}
	return nil
}

// profileTLSCryptV2 is the client key of a profile listing servers: nil
// unless one of them is a tls-crypt-v2 server.
func profileTLSCryptV2(u *unlockedCA, servers []bundle.Server, serial string) ([]byte, error) {
	for _, s := range servers {
		if s.TLSMode == ovpn.TLSCryptV2 {
			return tlsCryptV2ClientKey(u, serial)
		}
	}
	return nil, nil
}
