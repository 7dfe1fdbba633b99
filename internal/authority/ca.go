package authority

import (
	"context"
	"errors"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Passphrase is the CA passphrase. It prints as [redacted] and is never
// logged.
type Passphrase = pki.Passphrase

// Algo is a key algorithm for the CA (and so every key it signs):
// p256, p384, ed25519, rsa2048, rsa3072 or rsa4096.
type Algo = pki.Algo

// DefaultCADays is the CA's lifetime when InitRequest.Days is zero.
const DefaultCADays = pki.DefaultCADays

// ParseAlgo reads an algorithm name ("" is the default, P-256).
func ParseAlgo(s string) (Algo, error) { return pki.ParseAlgo(s) }

// InitRequest describes a new CA.
type InitRequest struct {
	Algo       Algo
	CommonName string
	Days       int
	Passphrase pki.Passphrase // empty only with NoPassphrase
	// NoPassphrase stores the CA key unencrypted, as easy-rsa's nopass.
	NoPassphrase bool
}

const tlsCryptLabel = "tls-crypt"

// Init creates the CA and the tls-crypt key, signs the first CRL, and
// leaves the CA unlocked.
func (a *Authority) Init(ctx context.Context, r InitRequest) error {
	if len(r.Passphrase) == 0 && !r.NoPassphrase {
		return fmt.Errorf("%w: an empty CA passphrase must be asked for explicitly", pki.ErrInvalid)
	}
	if r.CommonName == "" {
		r.CommonName = "vpnkeys CA"
		if a.opts.Company != "" {
			r.CommonName = a.opts.Company + " VPN CA"
		}
	}
	if r.Days == 0 {
		r.Days = pki.DefaultCADays
	}
	if err := ValidCADays(r.Days); err != nil {
		return err
	}
	if _, err := a.db.Q().GetCA(ctx); err == nil {
		return ErrInitialized
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	key, err := pki.GenerateKey(r.Algo)
	if err != nil {
		return err
	}
	ca, err := pki.NewCA(key, r.CommonName, r.Days, a.now())
	if err != nil {
		return err
	}
	keyPEM, err := pki.EncryptKey(key, r.Passphrase)
	if err != nil {
		return err
	}
	sk, err := ovpn.NewStaticKey()
	if err != nil {
		return err
	}
	u, err := newUnlocked(ca, ovpn.FormatStaticKey(sk))
	if err != nil {
		return err
	}
	sealedTA, err := u.sealer.Seal(u.tlsCrypt, tlsCryptLabel)
	if err != nil {
		return err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		err := q.PutCA(ctx, store.CA{
			Algo: string(r.Algo), CertPEM: string(u.certPEM), KeyPEM: string(keyPEM),
			Encrypted: len(r.Passphrase) > 0, TLSCrypt: sealedTA, CreatedAt: a.now(),
		})
		if errors.Is(err, store.ErrExists) {
			return ErrInitialized
		}
		if err != nil {
			return err
		}
		if err := a.audit(ctx, q, "ca.init", r.CommonName, map[string]any{"algo": r.Algo, "encrypted": len(r.Passphrase) > 0}); err != nil {
			return err
		}
		_, err = a.signCRL(ctx, q, u)
		return err
	})
	if err != nil {
		return err
	}
	a.setUnlocked(u)
	return nil
}

func newUnlocked(ca *pki.CA, tlsCrypt []byte) (*unlockedCA, error) {
	s, err := pki.NewSealer(ca)
	if err != nil {
		return nil, err
	}
	return &unlockedCA{ca: ca, sealer: s, tlsCrypt: tlsCrypt, certPEM: pki.CertPEM(ca.Cert), v2: &v2Key{}}, nil
}

func (a *Authority) setUnlocked(u *unlockedCA) {
	a.mu.Lock()
	a.unlocked = u
	a.mu.Unlock()
}

// NeedsPassphrase tells whether Unlock needs a passphrase (false for a CA
// made with --no-passphrase); ErrNotInitialized before init.
func (a *Authority) NeedsPassphrase(ctx context.Context) (bool, error) {
	row, err := a.db.Q().GetCA(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return false, ErrNotInitialized
	}
	if err != nil {
		return false, err
	}
	return row.Encrypted, nil
}

// Initialized tells whether a CA exists.
func (a *Authority) Initialized(ctx context.Context) (bool, error) {
	_, err := a.db.Q().GetCA(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Unlock decrypts the CA key with pass and keeps it in memory. A wrong
// passphrase gives pki.ErrWrongPassphrase.
func (a *Authority) Unlock(ctx context.Context, pass pki.Passphrase) error {
	row, err := a.db.Q().GetCA(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotInitialized
	}
	if err != nil {
		return err
	}
	cert, err := pki.ParseCert([]byte(row.CertPEM))
	if err != nil {
		return fmt.Errorf("reading CA certificate: %w", err)
	}
	key, err := pki.ParseKey([]byte(row.KeyPEM), pass)
	if err != nil {
		return err
	}
	if err := pki.MatchesCert(key, cert); err != nil {
		return fmt.Errorf("CA key: %w", err)
	}
	ca := &pki.CA{Cert: cert, Key: key}
	u, err := newUnlocked(ca, nil)
	if err != nil {
		return err
	}
	if u.tlsCrypt, err = u.sealer.Open(row.TLSCrypt, tlsCryptLabel); err != nil {
		return fmt.Errorf("opening tls-crypt key: %w", err)
	}
	if err := a.adoptNext(ctx, u); err != nil {
		return err
	}
	a.setUnlocked(u)
	return nil
}

// CACertPEM returns the CA certificate.
func (a *Authority) CACertPEM(ctx context.Context) ([]byte, error) {
	row, err := a.db.Q().GetCA(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	return []byte(row.CertPEM), nil
}

// CAKeyPEM returns the stored (encrypted) CA key, for export.
func (a *Authority) CAKeyPEM(ctx context.Context) ([]byte, error) {
	row, err := a.db.Q().GetCA(ctx)
	if err != nil {
		return nil, err
	}
	return []byte(row.KeyPEM), nil
}
