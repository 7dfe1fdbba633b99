package authority

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Bundle folders on disk follow what every profile holds. Links, send and
// the API render a bundle from the database when asked, so they are always
// current; the folders that add and renew wrote under BundleDir are not,
// until RefreshBundles writes them again. It runs after every operation
// that changes all profiles at once (a server added or removed, a server's
// remote or control-channel mode set, a CA rollover started or finished)
// and by hand (`vpnkeys bundles refresh`). It re-renders from the kept key
// and certificate: nothing is issued, no serial consumed, the key the same.
// Folders written with --out elsewhere are not known and not refreshed.

// RefreshResult tells what a refresh of the bundle folders did.
type RefreshResult struct {
	Dir       string `json:"dir"`
	Refreshed int    `json:"refreshed"` // folders re-rendered
	Skipped   int    `json:"skipped"`   // users with access but no folder in Dir
	// Failed names the users whose folder stays as it was (the error says
	// why); the others were refreshed all the same.
	Failed []string `json:"failed,omitempty"`
	// Locked: the CA was locked, so nothing was rendered; Pending folders
	// still hold the previous profiles.
	Locked  bool `json:"locked,omitempty"`
	Pending int  `json:"pending,omitempty"`
}

// RefreshBundles re-renders, for every user with an active certificate
// and a bundle folder in BundleDir, the whole bundle (profiles, ca.crt,
// readme, archives) from the stored key and certificate, and exchanges the
// folder for the new one in one step: a crash leaves the old folder or the
// new one, and files no longer rendered (the profile of a mode no server
// uses now) go. Users are rendered in parallel; one user's failure leaves
// that user's folder as it was and is reported in the joined error, the
// others are refreshed. A folder is never created (a user without one is
// Skipped) nor brought back after a removal. Needs the CA unlocked when
// there is something to render. Audited: bundles.refresh with the counts.
func (a *Authority) RefreshBundles(ctx context.Context) (RefreshResult, error) {
	return a.refreshBundles(ctx, "")
}

// refreshAfter refreshes the bundle folders after op, a change of every
// profile that has committed: a failure is logged and handed to
// Options.OnRefresh, never returned, since op itself took effect. With no
// folder to refresh it does nothing, not even an audit row.
func (a *Authority) refreshAfter(ctx context.Context, op string) {
	res, err := a.refreshBundles(ctx, op)
	if err == nil && res.Refreshed == 0 {
		return
	}
	switch {
	case errors.Is(err, ErrLocked):
		a.log.Warn("bundle folders not re-rendered: the CA is locked", "after", op, "pending", res.Pending, "dir", res.Dir)
	case err != nil:
		a.log.Error("re-rendering bundle folders", "after", op, "refreshed", res.Refreshed, "failed", len(res.Failed), "err", err)
	default:
		a.log.Info("bundle folders re-rendered", "after", op, "refreshed", res.Refreshed, "dir", res.Dir)
	}
	if a.opts.OnRefresh != nil {
		a.opts.OnRefresh(res, err)
	}
}

// refreshOne is one user's part of a refresh.
type refreshOne struct {
	uc     store.UserCert
	staged *bundle.Staged
	err    error
}

// refreshBundles is RefreshBundles; after names the operation that called
// it ("" by hand), for the audit row, which an automatic call with no
// folder to refresh does not write.
func (a *Authority) refreshBundles(ctx context.Context, after string) (RefreshResult, error) {
	res := RefreshResult{Dir: a.BundleDir()}
	todo, skipped, err := a.refreshTodo(ctx, res.Dir)
	if err != nil {
		return res, err
	}
	res.Skipped = skipped
	if len(todo) == 0 {
		if after != "" {
			return res, nil
		}
		return res, a.auditRefresh(ctx, res, after)
	}
	u, err := a.ca()
	if err != nil {
		res.Locked, res.Pending = errors.Is(err, ErrLocked), len(todo)
		return res, err
	}
	st, err := bundle.NewStaging(res.Dir)
	if err != nil {
		return res, err
	}
	// Close removes what is still staged: aborted bundles and, once
	// replaced, the previous folders.
	defer st.Close()
	if err := a.stageRefresh(ctx, u, st, todo); err != nil {
		return res, err
	}
	var errs []error
	for i := range todo {
		t := &todo[i]
		if t.err == nil {
			t.err = a.replaceBundle(ctx, t)
		}
		if t.err != nil {
			res.Failed = append(res.Failed, t.uc.Name)
			errs = append(errs, t.err)
			continue
		}
		res.Refreshed++
	}
	if res.Refreshed > 0 {
		if err := safefile.SyncDir(res.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := a.auditRefresh(ctx, res, after); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("refreshing bundles: %d of %d not refreshed: %w", len(res.Failed), len(todo), errors.Join(errs...))
	}
	return res, nil
}

// refreshTodo lists the users with an active certificate whose folder is
// in dir, and counts those without one.
func (a *Authority) refreshTodo(ctx context.Context, dir string) ([]refreshOne, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("reading bundles folder: %w", err)
	}
	folders := make(map[string]bool, len(entries))
	for _, e := range entries {
		if e.IsDir() { // a symlink is not followed: vpnkeys never makes one
			folders[e.Name()] = true
		}
	}
	users, err := a.db.Q().ListUsers(ctx, store.UserFilter{State: "active", Now: a.now().Unix(), WithKeys: len(folders) > 0})
	if err != nil {
		return nil, 0, err
	}
	var todo []refreshOne
	skipped := 0
	for _, uc := range users {
		if folders[uc.Name] {
			todo = append(todo, refreshOne{uc: uc})
		} else {
			skipped++
		}
	}
	return todo, skipped, nil
}

// stageRefresh renders and stages each user's bundle, in parallel; a
// user's failure is kept in its refreshOne, a failure of all is returned.
func (a *Authority) stageRefresh(ctx context.Context, u *unlockedCA, st *bundle.Staging, todo []refreshOne) error {
	u, err := a.rendering(ctx, u)
	if err != nil {
		return err
	}
	tmpl, err := a.templates()
	if err != nil {
		return err
	}
	servers, err := a.profileServers(ctx)
	if err != nil {
		return err
	}
	now := a.now()
	parallel(len(todo), func(i int) {
		t := &todo[i]
		if t.err = ctxDone(ctx); t.err != nil {
			return
		}
		files, err := a.renderKept(u, tmpl, servers, t.uc)
		if err != nil {
			t.err = fmt.Errorf("refreshing bundle of %s: %w", t.uc.Name, err)
			return
		}
		t.staged, t.err = st.Stage(t.uc.Name, files, now)
	})
	var staged []*bundle.Staged
	for _, t := range todo {
		if t.staged != nil {
			staged = append(staged, t.staged)
		}
	}
	return bundle.Sync(staged)
}

// renderKept renders uc's bundle from its kept key.
func (a *Authority) renderKept(u *unlockedCA, tmpl *bundle.Templates, servers []bundle.Server, uc store.UserCert) ([]bundle.File, error) {
	c := uc.Cert
	if len(c.KeySealed) == 0 {
		return nil, fmt.Errorf("%w: %s's key is not kept (renew to issue a new one)", ErrNotActive, uc.Name)
	}
	keyPEM, err := u.sealer.Open(c.KeySealed, keyLabel(store.KindClient, uc.Name, c.Serial))
	if err != nil {
		return nil, err
	}
	return a.render(u, tmpl, servers, uc.User, *c, keyPEM)
}

// replaceBundle moves t's staged bundle into place, unless the user's
// certificate changed since it was read (renewed or revoked by another
// command meanwhile: that one wrote or removed the folder).
func (a *Authority) replaceBundle(ctx context.Context, t *refreshOne) error {
	cur, err := a.db.Q().GetUser(ctx, t.uc.Name)
	if err == nil && (cur.Cert == nil || cur.Cert.Serial != t.uc.Cert.Serial || cur.Cert.State != store.StateActive) {
		err = fmt.Errorf("%w: %s's certificate changed during the refresh", ErrNotActive, t.uc.Name)
	}
	if err != nil {
		t.staged.Abort()
		return fmt.Errorf("refreshing bundle of %s: %w", t.uc.Name, err)
	}
	return t.staged.Replace()
}

func (a *Authority) auditRefresh(ctx context.Context, res RefreshResult, after string) error {
	detail := map[string]any{"dir": res.Dir, "refreshed": res.Refreshed, "skipped": res.Skipped, "failed": len(res.Failed)}
	if after != "" {
		detail["after"] = after
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "bundles.refresh", "bundles", detail)
	})
}

// profileKey is what of a server every profile holds.
type profileKey struct {
	host, proto, mode string
	port              int
}

func profileKeyOf(s store.Server) profileKey {
	return profileKey{host: s.Host, proto: s.Proto, port: s.Port, mode: string(ovpn.TLSMode(s.TLSMode).OrDefault())}
}

// BundlesToRefresh counts the bundle folders that a change of every
// profile would leave behind because the CA is locked: 0 when it is
// unlocked or there are none. A front end asks for the passphrase only
// then.
func (a *Authority) BundlesToRefresh(ctx context.Context) (int, error) {
	if _, err := a.ca(); err == nil {
		return 0, nil
	}
	todo, _, err := a.refreshTodo(ctx, a.BundleDir())
	return len(todo), err
}
