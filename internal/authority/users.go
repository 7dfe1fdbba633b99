package authority

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Defaults for a new user whose request leaves them empty.
const (
	DefaultOS   = account.Windows // gen.sh shipped readme_vpn_win.txt
	DefaultLang = "en"
)

// UserRequest asks for a user's access. Empty fields keep an existing
// user's values, or take the defaults for a new one.
type UserRequest struct {
	Name     string
	Email    string
	FullName string
	OS       string
	Lang     string
	Groups   []string // groups to join (access control); existing memberships stay
}

// Validate checks every field with the account rules.
func (r UserRequest) Validate() error {
	if err := account.ValidName(r.Name); err != nil {
		return err
	}
	if err := account.ValidEmail(r.Email); err != nil {
		return err
	}
	if err := account.ValidFullName(r.FullName); err != nil {
		return err
	}
	if _, err := account.ParseOS(r.OS, DefaultOS); err != nil {
		return err
	}
	if _, err := account.ParseLang(r.Lang, DefaultLang); err != nil {
		return err
	}
	return validGroups(r.Groups)
}

// AddOptions tune AddUsers.
type AddOptions struct {
	OutDir string // bundles go to OutDir/USER; Authority.BundleDir() if empty
	// NewKey issues a fresh key and certificate even when the user has a
	// valid one; the old certificate is revoked as superseded.
	NewKey bool
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
	// NoBundles issues certificates without writing bundles (they are
	// rendered later from the kept key: a link, send, or add again).
	NoBundles bool
	// Reinstate gives access again to users who were revoked. Without it
	// a revoked user is refused: bringing someone back is a choice.
	Reinstate bool
	// AllOrNothing makes OnboardRoster onboard nobody when it refuses a
	// request.
	AllOrNothing bool
	// Days is the lifetime of the certificates issued (`--days N`); 0
	// takes Options.LeafDays. An explicit one is checked (lifetime.go).
	Days int
}

// AddResult tells what AddUsers did for one user.
type AddResult struct {
	User   string
	Serial string
	Issued bool // false: the valid certificate was kept
	// Reinstated tells that the user had been revoked (Reinstate).
	Reinstated bool
	Expires    time.Time
	Dir        string
}

// batchSize bounds one transaction and one syncfs in a bulk onboarding.
const batchSize = 256

// AddUsers gives each requested user access: it issues a certificate
// (keeping a valid existing one unless NewKey), then writes the bundle
// folder and archives. All requests are validated before anything is
// written; a bad one fails the call with nothing changed. Users are handled
// in batches of batchSize, each in one transaction.
func (a *Authority) AddUsers(ctx context.Context, reqs []UserRequest, opts AddOptions) ([]AddResult, error) {
	seen := map[string]bool{}
	for _, r := range reqs {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("%w: user %s given twice", account.ErrInvalid, r.Name)
		}
		seen[r.Name] = true
	}
	days, err := a.leafDays(ctx, opts.Days)
	if err != nil {
		return nil, err
	}
	opts.Days = days
	if err := a.checkGroupsExist(ctx, requestedGroups(reqs)); err != nil {
		return nil, err
	}
	if err := a.checkPools(ctx, reqs); err != nil {
		return nil, err
	}
	u, err := a.ca()
	if err != nil {
		return nil, err
	}
	if u, err = a.rendering(ctx, u); err != nil {
		return nil, err
	}
	tmpl, err := a.templates()
	if err != nil {
		return nil, err
	}
	servers, err := a.profileServers(ctx)
	if err != nil {
		return nil, err
	}
	if !opts.Reinstate {
		if err := a.refuseRevoked(ctx, reqs); err != nil {
			return nil, err
		}
	}
	if err := a.reapAbandoned(ctx); err != nil {
		return nil, err
	}
	if opts.OutDir == "" {
		opts.OutDir = a.BundleDir()
	}
	var st *bundle.Staging
	if !opts.NoBundles {
		if st, err = bundle.NewStaging(opts.OutDir); err != nil {
			return nil, err
		}
		defer st.Close()
	}
	var out []AddResult
	defer func() {
		if len(out) > 0 { // once per call, not per batch: a render of every user
			a.publishCCD(ctx)
		}
	}()
	for start := 0; start < len(reqs); start += batchSize {
		if err := ctxDone(ctx); err != nil {
			return out, err
		}
		batch := reqs[start:min(start+batchSize, len(reqs))]
		res, err := a.addBatch(ctx, u, tmpl, servers, st, batch, opts)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
		if opts.Progress != nil {
			opts.Progress(len(out), len(reqs))
		}
	}
	return out, nil
}

func (a *Authority) profileServers(ctx context.Context) ([]bundle.Server, error) {
	list, err := a.db.Q().ListServers(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNoServers
	}
	out := make([]bundle.Server, len(list))
	for i, s := range list {
		out[i] = bundle.Server{Name: s.Name, Host: s.Host, Port: s.Port, Proto: s.Proto,
			Remote: ovpn.Remote{Host: s.Host, Port: s.Port, Proto: s.Proto}.String(), TLSMode: ovpn.TLSMode(s.TLSMode).OrDefault()}
	}
	return out, a.loadTLSCryptV2For(ctx, out)
}

// render makes a user's bundle files in memory.
func (a *Authority) render(u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, usr store.User, c store.Cert, keyPEM []byte) ([]bundle.File, error) {
	v2, err := profileTLSCryptV2(u, servers, c.Serial)
	if err != nil {
		return nil, err
	}
	return tmpl.Render(bundle.Data{TLSCryptV2: string(v2),
		User: usr.Name, FullName: usr.FullName, Email: usr.Email, OS: usr.OS, Lang: usr.Lang,
		Company: a.opts.Company, Contact: a.opts.Contact, Expires: c.NotAfter.Format(time.DateOnly),
		Servers: servers, CA: string(u.renderedCA()), Cert: c.CertPEM, Key: string(keyPEM), TLSCrypt: string(u.tlsCrypt),
	})
}

// currentBundle renders the bundle of a user's active certificate from the
// kept key, without writing anything. When serial is set, the active
// certificate must be that one. keyPass, when set, encrypts the key inside
// (the user types it when connecting).
func (a *Authority) currentBundle(ctx context.Context, name, serial string, keyPass pki.Passphrase) (store.UserCert, []bundle.File, error) {
	u, err := a.ca()
	if err != nil {
		return store.UserCert{}, nil, err
	}
	if u, err = a.rendering(ctx, u); err != nil {
		return store.UserCert{}, nil, err
	}
	uc, err := a.db.Q().GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return uc, nil, fmt.Errorf("%w: %s", ErrUserNotFound, name)
	}
	if err != nil {
		return uc, nil, err
	}
	c := uc.Cert
	if c == nil || c.State != store.StateActive || !c.NotAfter.After(a.now()) || (serial != "" && c.Serial != serial) {
		return uc, nil, fmt.Errorf("%w: %s", ErrNotActive, name)
	}
	if len(c.KeySealed) == 0 {
		return uc, nil, fmt.Errorf("%w: %s's key is not kept (renew to issue a new one)", ErrNotActive, name)
	}
	keyPEM, err := u.sealer.Open(c.KeySealed, keyLabel(store.KindClient, name, c.Serial))
	if err != nil {
		return uc, nil, err
	}
	if len(keyPass) > 0 {
		k, err := pki.ParseKey(keyPEM, nil)
		if err != nil {
			return uc, nil, err
		}
		if keyPEM, err = pki.EncryptKey(k, keyPass); err != nil {
			return uc, nil, err
		}
	}
	tmpl, err := a.templates()
	if err != nil {
		return uc, nil, err
	}
	servers, err := a.profileServers(ctx)
	if err != nil {
		return uc, nil, err
	}
	files, err := a.render(u, tmpl, servers, uc.User, *c, keyPEM)
	return uc, files, err
}

func mergeUser(r UserRequest, cur store.UserCert, now time.Time) store.User {
	u := cur.User
	if u.Name == "" {
		u = store.User{Name: r.Name, OS: string(DefaultOS), Lang: DefaultLang, CreatedAt: now}
	}
	if r.Email != "" {
		u.Email = r.Email
	}
	if r.FullName != "" {
		u.FullName = r.FullName
	}
	if r.OS != "" {
		os, _ := account.ParseOS(r.OS, DefaultOS)
		u.OS = string(os)
	}
	if r.Lang != "" {
		l, _ := account.ParseLang(r.Lang, DefaultLang)
		u.Lang = string(l)
	}
	u.UpdatedAt = now
	return u
}

// parallel runs fn(0..n-1) on two goroutines per CPU.
func parallel(n int, fn func(i int)) {
	workers := min(2*runtime.GOMAXPROCS(0), n) // file creation blocks; overlap it
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
