package authority

import (
	"context"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// RosterResult tells what OnboardRoster did.
type RosterResult struct {
	Issued    int // new certificates
	Kept      int // valid certificate kept, details or bundle updated
	Unchanged int // already onboarded with the same details: nothing written
	Results   []AddResult
	// Refused lists the requests refused here (a revoked user without
	// Reinstate), each with its reason; the others are onboarded unless
	// AllOrNothing.
	Refused []RosterRefusal
}

// RosterRefusal is a roster request the service refused.
type RosterRefusal struct {
	Name string
	Err  error
}

// OnboardRoster gives every requested user access with one CA unlock.
// Users already onboarded with the same details and a valid certificate are
// left alone entirely, so running the same roster twice changes nothing.
func (a *Authority) OnboardRoster(ctx context.Context, reqs []UserRequest, opts AddOptions) (RosterResult, error) {
	var res RosterResult
	names := make([]string, len(reqs))
	for i, r := range reqs {
		if err := r.Validate(); err != nil {
			return res, err
		}
		names[i] = r.Name
	}
	existing := map[string]store.UserCert{}
	for start := 0; start < len(names); start += 500 {
		part, err := a.db.Q().ListUsers(ctx, store.UserFilter{Names: names[start:min(start+500, len(names))]})
		if err != nil {
			return res, err
		}
		for _, u := range part {
			existing[u.Name] = u
		}
	}
	now := a.now()
	var todo []UserRequest
	for _, r := range reqs {
		cur, ok := existing[r.Name]
		if ok && !opts.Reinstate && cur.Cert != nil && cur.Cert.State == store.StateRevoked {
			res.Refused = append(res.Refused, RosterRefusal{Name: r.Name,
				Err: fmt.Errorf("%w: %s; reinstating must be asked for explicitly", ErrRevokedUser, revokedLine(cur))})
			continue
		}
		if ok && unchanged(r, cur, now) {
			res.Unchanged++
			continue
		}
		todo = append(todo, r)
	}
	if len(res.Refused) > 0 && opts.AllOrNothing {
		return res, fmt.Errorf("%w: %d of %d rows refused; nothing onboarded (all or nothing)", account.ErrInvalid, len(res.Refused), len(reqs))
	}
	if opts.Progress != nil && res.Unchanged > 0 {
		inner := opts.Progress
		done := res.Unchanged
		opts.Progress = func(n, _ int) { inner(done+n, len(reqs)) }
	}
	if len(todo) == 0 {
		return res, nil
	}
	out, err := a.AddUsers(ctx, todo, opts)
	for _, r := range out {
		if r.Issued {
			res.Issued++
		} else {
			res.Kept++
		}
	}
	res.Results = out
	return res, err
}

// unchanged tells whether a request would change nothing for cur.
func unchanged(r UserRequest, cur store.UserCert, now time.Time) bool {
	c := cur.Cert
	if c == nil || c.State != store.StateActive || !c.NotAfter.After(now) {
		return false
	}
	same := func(want, have string) bool { return want == "" || want == have }
	os, _ := account.ParseOS(r.OS, account.OS(cur.OS))
	lang, _ := account.ParseLang(r.Lang, account.Lang(cur.Lang))
	return same(r.Email, cur.Email) && same(r.FullName, cur.FullName) && string(os) == cur.OS && string(lang) == cur.Lang
}
