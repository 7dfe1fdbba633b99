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
	_, err := account.ParseLang(r.Lang, DefaultLang)
	return err
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
}

// AddResult tells what AddUsers did for one user.
type AddResult struct {
	User    string
	Serial  string
	Issued  bool // false: the valid certificate was kept
	Expires time.Time
	Dir     string
}

// leftoverAge is how old a staged bundle must be to count as left behind
// by a killed run.
const leftoverAge = 10 * time.Minute

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
	u, err := a.ca()
	if err != nil {
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
	if opts.OutDir == "" {
		opts.OutDir = a.BundleDir()
	}
	bundle.RemoveLeftovers(opts.OutDir, leftoverAge)
	var out []AddResult
	for start := 0; start < len(reqs); start += batchSize {
		if err := ctxDone(ctx); err != nil {
			return out, err
		}
		batch := reqs[start:min(start+batchSize, len(reqs))]
		res, err := a.addBatch(ctx, u, tmpl, servers, batch, opts)
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
		out[i] = bundle.Server{Name: s.Name, Host: s.Host, Port: s.Port, Proto: s.Proto}
	}
	return out, nil
}

// planned is one user's work in a batch.
type planned struct {
	user    store.User
	old     *store.Cert // the certificate being replaced, if any
	cert    store.Cert  // the certificate the bundle carries
	issued  bool
	staged  *bundle.Staged
	revokes bool // old is still valid and must be revoked
}

// addBatch retries a batch that lost a race with another process.
func (a *Authority) addBatch(ctx context.Context, u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, batch []UserRequest, opts AddOptions) ([]AddResult, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var res []AddResult
		res, err = a.tryBatch(ctx, u, tmpl, servers, batch, opts)
		if !errors.Is(err, store.ErrConflict) {
			return res, err
		}
		a.log.Info("batch lost a race, retrying", "attempt", attempt+1)
	}
	return nil, err
}

func (a *Authority) tryBatch(ctx context.Context, u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, batch []UserRequest, opts AddOptions) ([]AddResult, error) {
	start := a.now()
	names := make([]string, len(batch))
	for i, r := range batch {
		names[i] = r.Name
	}
	existing, err := a.db.Q().ListUsers(ctx, store.UserFilter{Names: names, WithKeys: true})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.UserCert, len(existing))
	for _, e := range existing {
		byName[e.Name] = e
	}
	plans := make([]planned, len(batch))
	errs := make([]error, len(batch))
	now := a.now()
	parallel(len(batch), func(i int) {
		plans[i], errs[i] = a.plan(u, tmpl, servers, batch[i], byName[batch[i].Name], opts, now)
	})
	abort := func() {
		for _, p := range plans {
			if p.staged != nil {
				p.staged.Abort()
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		abort()
		return nil, err
	}
	revoked := false
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		for _, p := range plans {
			if err := a.record(ctx, q, p); err != nil {
				return err
			}
			revoked = revoked || p.revokes
		}
		if revoked {
			_, err := a.signCRL(ctx, q, u)
			return err
		}
		return nil
	})
	if err != nil {
		abort()
		return nil, err
	}
	var staged []*bundle.Staged
	res := make([]AddResult, len(plans))
	for i, p := range plans {
		if p.staged != nil {
			staged = append(staged, p.staged)
		}
		res[i] = AddResult{User: p.user.Name, Serial: p.cert.Serial, Issued: p.issued, Expires: p.cert.NotAfter, Dir: opts.OutDir}
	}
	if a.opts.Observe != nil {
		each := a.now().Sub(start) / time.Duration(len(plans))
		for _, p := range plans {
			if p.issued {
				a.opts.Observe("issue", each, nil)
			}
		}
	}
	if revoked {
		if _, err := a.publishCRL(ctx); err != nil {
			a.log.Error("publishing CRL", "err", err)
		}
	}
	if err := bundle.Commit(staged); err != nil {
		return res, fmt.Errorf("certificates issued, but writing bundles failed (run the command again to rewrite them): %w", err)
	}
	return res, nil
}

// plan does one user's CPU and file work: key, certificate, bundle staged.
func (a *Authority) plan(u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, r UserRequest, cur store.UserCert, opts AddOptions, now time.Time) (planned, error) {
	p := planned{user: mergeUser(r, cur, now)}
	var keyPEM []byte
	if c := cur.Cert; c != nil && c.State == store.StateActive {
		old := *c
		p.old = &old
		valid := c.NotAfter.After(now)
		if valid && !opts.NewKey && len(c.KeySealed) > 0 {
			k, err := u.sealer.Open(c.KeySealed, keyLabel(store.KindClient, r.Name, c.Serial))
			if err != nil {
				return p, fmt.Errorf("opening key of %s: %w", r.Name, err)
			}
			p.cert, keyPEM, p.old = *c, k, nil
		} else {
			p.revokes = valid
		}
	}
	if keyPEM == nil {
		key, err := pki.GenerateKey(pki.AlgoOf(u.ca.Key.Public()))
		if err != nil {
			return p, err
		}
		if p.cert, keyPEM, err = a.issue(u, pki.Client, r.Name, key); err != nil {
			return p, err
		}
		p.issued = true
	}
	if opts.NoBundles {
		return p, nil
	}
	files, err := a.render(u, tmpl, servers, p.user, p.cert, keyPEM)
	if err != nil {
		return p, err
	}
	if p.staged, err = bundle.Stage(opts.OutDir, r.Name, files, now); err != nil {
		return p, err
	}
	return p, nil
}

// render makes a user's bundle files in memory.
func (a *Authority) render(u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, usr store.User, c store.Cert, keyPEM []byte) ([]bundle.File, error) {
	return tmpl.Render(bundle.Data{
		User: usr.Name, FullName: usr.FullName, Email: usr.Email, OS: usr.OS, Lang: usr.Lang,
		Company: a.opts.Company, Contact: a.opts.Contact, Expires: c.NotAfter.Format(time.DateOnly),
		Servers: servers, CA: string(u.certPEM), Cert: c.CertPEM, Key: string(keyPEM), TLSCrypt: string(u.tlsCrypt),
	})
}

// currentBundle renders the bundle of a user's active certificate from the
// kept key, without writing anything. keyPass, when set, encrypts the key
// inside (the user types it when connecting).
func (a *Authority) currentBundle(ctx context.Context, name string, keyPass pki.Passphrase) (store.UserCert, []bundle.File, error) {
	u, err := a.ca()
	if err != nil {
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
	if c == nil || c.State != store.StateActive || !c.NotAfter.After(a.now()) {
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

// record writes one planned user in transaction q.
func (a *Authority) record(ctx context.Context, q *store.Queries, p planned) error {
	if err := q.UpsertUser(ctx, p.user); err != nil {
		return err
	}
	if !p.issued {
		return a.audit(ctx, q, "user.bundle", p.user.Name, map[string]any{"serial": p.cert.Serial})
	}
	if p.old != nil {
		state, reason := store.StateSuperseded, ""
		if p.revokes {
			state, reason = store.StateRevoked, pki.Superseded.String()
		}
		if err := q.EndCert(ctx, p.old.Serial, state, a.now().Unix(), reason); err != nil {
			return err
		}
	}
	if err := q.InsertCert(ctx, p.cert); err != nil {
		return err
	}
	if err := q.SetCurrentSerial(ctx, p.user.Name, p.cert.Serial); err != nil {
		return err
	}
	detail := map[string]any{"serial": p.cert.Serial, "os": p.user.OS, "lang": p.user.Lang}
	if p.old != nil {
		detail["replaces"] = p.old.Serial
	}
	return a.audit(ctx, q, "user.issue", p.user.Name, detail)
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
