package authority

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/easyrsa"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ImportOptions tune ImportEasyRSA.
type ImportOptions struct {
	// AskPassphrase gives the passphrase of easy-rsa's CA key; it is called
	// only when that key is encrypted, and the key is stored encrypted
	// under the same passphrase.
	AskPassphrase func() (Passphrase, error)
	// TLSCrypt is the content of the servers' ta.key; a new key is drawn
	// when nil (then every server needs the new ta.key).
	TLSCrypt []byte
	DryRun   bool
	// TLSMode is the control channel of the servers registered after the
	// import ("" detects it from ConfigDirs, see importTLSMode);
	// ConfigDirs are the old setup's OpenVPN configuration folders (gen.sh's
	// distribution folder, /etc/openvpn/server).
	TLSMode    string
	ConfigDirs []string
}

// ImportSummary tells what an import holds.
type ImportSummary struct {
	Users, Active, Revoked, Expired, Superseded, Servers, KeysKept int
	Warnings                                                       []string
	NewTLSCrypt                                                    bool
	// TLSMode is the mode servers registered from now on get, and
	// TLSModeReason why; TAKeyFrom names the ta.key found in ConfigDirs
	// and imported as the static key ("" if none was).
	TLSMode, TLSModeReason, TAKeyFrom string
	// Retired lists the older unexpired valid client certificates that the
	// import puts on the CRL (reason superseded), one per certificate, so
	// that no user has more than one certificate off the CRL.
	Retired []Retired
}

// Retired is an older valid certificate of a client that the import
// revoked as superseded because a newer one (Kept) is the user's own.
type Retired struct {
	User, Serial, Kept string
	NotAfter           time.Time
}

// ImportEasyRSA adopts a loaded easy-rsa PKI into an empty database in one
// transaction: every certificate keeps its serial, dates and status, revoked
// ones stay revoked and are in the next CRL (whose number continues
// easy-rsa's), keys found are kept sealed. A client with several unexpired
// valid certificates (easy-rsa 3.1's renew keeps the old one valid) keeps
// the newest; the older ones are revoked as superseded at the import's time,
// in the same transaction, so the CRL signed at its end lists them and a
// user has at most one certificate off the CRL. Nothing is written on error
// or in a dry run.
func (a *Authority) ImportEasyRSA(ctx context.Context, dir string, o ImportOptions) (ImportSummary, error) {
	if ok, err := a.Initialized(ctx); err != nil {
		return ImportSummary{}, err
	} else if ok {
		return ImportSummary{}, fmt.Errorf("%w: import needs an empty database", ErrInitialized)
	}
	var pass pki.Passphrase
	p, err := easyrsa.Load(dir, func() (pki.Passphrase, error) {
		if o.AskPassphrase == nil {
			return nil, fmt.Errorf("%w: the CA key is encrypted and no passphrase was given", pki.ErrWrongPassphrase)
		}
		var err error
		pass, err = o.AskPassphrase()
		return pass, err
	})
	if err != nil {
		return ImportSummary{}, err
	}
	return a.importPKI(ctx, p, pass, o)
}

// importPKI adopts a loaded PKI; pass re-encrypts its CA key.
func (a *Authority) importPKI(ctx context.Context, p *easyrsa.PKI, pass pki.Passphrase, o ImportOptions) (ImportSummary, error) {
	var sum ImportSummary
	if ok, err := a.Initialized(ctx); err != nil {
		return sum, err
	} else if ok {
		return sum, ErrInitialized
	}
	ca := &pki.CA{Cert: p.CACert, Key: p.CAKey}
	keyPEM, err := pki.EncryptKey(p.CAKey, pass)
	if err != nil {
		return sum, err
	}
	ta, err := importStaticKey(o, &sum)
	if err != nil {
		return sum, err
	}
	u, err := newUnlocked(ca, ta)
	if err != nil {
		return sum, err
	}
	certs, users, err := a.planImport(p, u, &sum)
	if err != nil || o.DryRun {
		return sum, err
	}
	sealedTA, err := u.sealer.Seal(ta, tlsCryptLabel)
	if err != nil {
		return sum, err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.PutCA(ctx, store.CA{Algo: string(pki.AlgoOf(p.CAKey.Public())), CertPEM: string(u.certPEM),
			KeyPEM: string(keyPEM), Encrypted: len(pass) > 0, TLSCrypt: sealedTA, CreatedAt: a.now()}); err != nil {
			if errors.Is(err, store.ErrExists) {
				return ErrInitialized
			}
			return err
		}
		for _, c := range certs {
			if err := q.InsertCert(ctx, c); err != nil {
				return err
			}
		}
		for _, usr := range users {
			if err := q.UpsertUser(ctx, usr); err != nil {
				return err
			}
			if err := q.SetCurrentSerial(ctx, usr.Name, usr.CurrentSerial); err != nil {
				return err
			}
		}
		if err := a.keepImportTLSMode(ctx, q, sum); err != nil {
			return err
		}
		if p.CRL != nil && p.CRL.Number != nil {
			if err := q.RaiseCRLNumber(ctx, p.CRL.Number.Int64()); err != nil {
				return err
			}
		}
		for _, r := range sum.Retired {
			if err := a.audit(ctx, q, "user.supersede", r.User, map[string]any{
				"serial": r.Serial, "reason": pki.Superseded.String(), "kept": r.Kept, "by": "ca.import"}); err != nil {
				return err
			}
		}
		if err := a.audit(ctx, q, "ca.import", p.CACert.Subject.CommonName, map[string]any{
			"from": p.Dir, "users": sum.Users, "active": sum.Active, "revoked": sum.Revoked, "keys": sum.KeysKept,
			"superseded_revoked": len(sum.Retired)}); err != nil {
			return err
		}
		_, err := a.signCRL(ctx, q, u)
		return err
	})
	if err != nil {
		return sum, err
	}
	a.setUnlocked(u)
	_, err = a.publishCRL(ctx)
	return sum, err
}

// importTLSCrypt checks the servers' ta.key, or draws a new one when nil.
func importTLSCrypt(given []byte) ([]byte, error) {
	if given != nil {
		k, err := ovpn.ParseStaticKey(given)
		if err != nil {
			return nil, fmt.Errorf("%w: tls-crypt key (ta.key): %w", pki.ErrInvalid, err)
		}
		return ovpn.FormatStaticKey(k), nil
	}
	k, err := ovpn.NewStaticKey()
	if err != nil {
		return nil, err
	}
	return ovpn.FormatStaticKey(k), nil
}

// planImport turns index rows into certificate and user records.
func (a *Authority) planImport(p *easyrsa.PKI, u *unlockedCA, sum *ImportSummary) ([]store.Cert, []store.User, error) {
	now := a.now()
	for _, w := range p.Warnings {
		sum.Warnings = append(sum.Warnings, w.String())
	}
	active := activeCerts(p, now)
	var certs []store.Cert
	latest := map[string]store.Cert{}
	for i, c := range p.Certs {
		kind := kindOf(c)
		rec := store.Cert{Serial: c.Serial, Kind: kind, Subject: c.CN, CertPEM: string(c.CertPEM),
			NotBefore: c.Cert.NotBefore, NotAfter: c.Cert.NotAfter, CreatedAt: c.Cert.NotBefore}
		live := c.Status == 'V' && c.Cert.NotAfter.After(now)
		newest, hasActive := active[subject{kind, c.CN}]
		switch {
		case c.Status == 'R':
			rec.State, rec.RevokedAt, rec.Reason = store.StateRevoked, c.RevokedAt, c.Reason
			if rec.Reason == "" {
				rec.Reason = pki.Unspecified.String()
			}
			sum.Revoked++
		case live && newest == i:
			rec.State = store.StateActive
			sum.Active++
		case !live:
			rec.State = store.StateSuperseded
			sum.Expired++
		case kind == store.KindClient && hasActive:
			// An older certificate a client could still connect with: on
			// the CRL, or revoking the user would leave it working.
			rec.State, rec.RevokedAt, rec.Reason = store.StateRevoked, now.Truncate(time.Second), pki.Superseded.String()
			sum.Retired = append(sum.Retired, Retired{User: c.CN, Serial: c.Serial, Kept: p.Certs[newest].Serial, NotAfter: c.Cert.NotAfter})
			sum.Superseded++
		default:
			rec.State = store.StateSuperseded
			sum.Superseded++
		}
		if c.KeyPEM != nil {
			sealed, err := u.sealer.Seal(c.KeyPEM, keyLabel(kind, c.CN, c.Serial))
			if err != nil {
				return nil, nil, err
			}
			rec.KeySealed = sealed
			sum.KeysKept++
		}
		if kind == store.KindServer {
			sum.Servers++
		}
		certs = append(certs, rec)
		if kind == store.KindClient && !isProbe(c.CN) { // a self-test probe is no user (selftest.go)
			if l, ok := latest[c.CN]; !ok || l.State != store.StateActive && (rec.State == store.StateActive || rec.NotBefore.After(l.NotBefore)) {
				latest[c.CN] = rec
			}
		}
	}
	sort.Slice(sum.Retired, func(i, j int) bool {
		return sum.Retired[i].User < sum.Retired[j].User || sum.Retired[i].User == sum.Retired[j].User && sum.Retired[i].Serial < sum.Retired[j].Serial
	})
	users := importUsers(latest, now, sum)
	return certs, users, nil
}

type subject struct{ kind, cn string }

// activeCerts picks the newest unexpired valid certificate of each subject
// (latest notBefore, then notAfter, then index.txt row): its active one.
func activeCerts(p *easyrsa.PKI, now time.Time) map[subject]int {
	active := map[subject]int{}
	for i, c := range p.Certs {
		if c.Status != 'V' || !c.Cert.NotAfter.After(now) {
			continue
		}
		k := subject{kindOf(c), c.CN}
		if j, ok := active[k]; !ok || c.Newer(p.Certs[j]) {
			active[k] = i
		}
	}
	return active
}

// importUsers makes a user of each client subject whose CN is a valid
// user name, its current serial the one latest chose.
func importUsers(latest map[string]store.Cert, now time.Time, sum *ImportSummary) []store.User {
	var users []store.User
	for cn, c := range latest {
		if err := account.ValidName(cn); err != nil {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("CN %q is not a vpnkeys user name: its certificates are kept (and revoked ones listed in the CRL) but no user is created", cn))
			continue
		}
		users = append(users, store.User{Name: cn, OS: string(DefaultOS), Lang: DefaultLang, CurrentSerial: c.Serial, CreatedAt: c.NotBefore, UpdatedAt: now})
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	sum.Users = len(users)
	return users
}

func kindOf(c easyrsa.Cert) string {
	if c.Server {
		return store.KindServer
	}
	return store.KindClient
}

// ExportEasyRSA writes the PKI to dir in easy-rsa 3.1's layout: the CA key
// as stored (encrypted under the same passphrase), every certificate with
// its status, the current certificates' keys in clear under private/ as
// easy-rsa's nopass keeps them, the CRL. It needs the CA unlocked.
func (a *Authority) ExportEasyRSA(ctx context.Context, dir string) (int, error) {
	u, err := a.ca()
	if err != nil {
		return 0, err
	}
	keyPEM, err := a.CAKeyPEM(ctx)
	if err != nil {
		return 0, err
	}
	crl, err := a.CRL(ctx)
	if err != nil {
		return 0, err
	}
	all, err := a.db.Q().AllCerts(ctx)
	if err != nil {
		return 0, err
	}
	now := a.now()
	x := easyrsa.Export{CACertPEM: u.certPEM, CAKeyPEM: keyPEM, CRLPEM: crl.PEM}
	for _, c := range all {
		cert, err := pki.ParseCert([]byte(c.CertPEM))
		if err != nil {
			return 0, err
		}
		ec := easyrsa.ExportCert{Cert: cert, Status: statusLetter(c, now), RevokedAt: c.RevokedAt, Reason: c.Reason}
		ec.Current = c.State == store.StateActive && ec.Status == 'V'
		if len(c.KeySealed) > 0 {
			if ec.KeyPEM, err = u.sealer.Open(c.KeySealed, keyLabel(c.Kind, c.Subject, c.Serial)); err != nil {
				return 0, fmt.Errorf("opening key of %s: %w", c.Subject, err)
			}
		}
		x.Certs = append(x.Certs, ec)
	}
	if err := easyrsa.Write(dir, x); err != nil {
		return 0, err
	}
	return len(x.Certs), a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "ca.export", dir, map[string]any{"certificates": len(x.Certs)})
	})
}

func statusLetter(c store.Cert, now time.Time) byte {
	switch {
	case c.State == store.StateRevoked:
		return 'R'
	case !c.NotAfter.After(now):
		return 'E'
	}
	return 'V'
}
