package authority

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// endsWindow is how far back AgentState lists `vpnkeys disconnect`
// requests: an agent that was away longer has restarted OpenVPN's
// sessions or long since ended them.
const endsWindow = 24 * time.Hour

// stateCache holds what AgentState built at the newest version: the
// parts every server shares (revoked serials, refused users, ends, the
// CRL) once, and each server's state once. When 500 agents of one server
// ask at one version, one builds and the others wait for it. A build
// that fails is not kept. Versions only grow, so an entry at an older
// version is replaced, never kept beside the newer one.
type stateCache struct {
	mu      sync.Mutex
	shared  *stateBuild[sharedState]
	servers map[string]*stateBuild[agentwire.State]
	builds  atomic.Int64 // server states built, for tests and benchmarks
}

// stateBuild is one computation at one version, shared by every caller that
// asks for that version (or an older one) while it runs or after.
type stateBuild[T any] struct {
	version int64
	done    chan struct{}
	val     T
	err     error
}

func newStateCache() *stateCache {
	return &stateCache{servers: map[string]*stateBuild[agentwire.State]{}}
}

// sharedState is what the state of every server holds alike.
type sharedState struct {
	crl     CRLInfo
	revoked []string
	refused []string
	end     []agentwire.End
	fw      fwShared
}

// once returns the build at version v or newer (get), or runs fn as
// the build at v, replacing an older one. Callers waiting for a build
// that failed get its error; the failed build leaves the slot.
func once[T any](ctx context.Context, mu *sync.Mutex, get func() *stateBuild[T], set func(*stateBuild[T]), v int64, fn func(ctx context.Context) (T, error)) (T, error) {
	mu.Lock()
	b := get()
	if b != nil && b.version >= v {
		mu.Unlock()
		select {
		case <-b.done:
			return b.val, b.err
		case <-ctx.Done():
			var zero T
			return zero, context.Cause(ctx)
		}
	}
	b = &stateBuild[T]{version: v, done: make(chan struct{})}
	set(b)
	mu.Unlock()
	// The build outlives its caller's request: others may be waiting for it.
	b.val, b.err = fn(context.WithoutCancel(ctx))
	if b.err != nil {
		mu.Lock()
		if get() == b {
			set(nil)
		}
		mu.Unlock()
	}
	close(b.done)
	return b.val, b.err
}

// AgentState is the complete desired state of server's folder, built (or
// found in the cache) once per version however many agents ask.
// The version is read before anything else, so the state holds at least
// every change up to it; a change committed meanwhile shows under a newer
// version too, and the agent's next request fetches that.
func (a *Authority) AgentState(ctx context.Context, server string) (agentwire.State, error) {
	u, err := a.ca()
	if err != nil {
		return agentwire.State{}, err
	}
	v, err := a.db.Q().Version(ctx)
	if err != nil {
		return agentwire.State{}, err
	}
	c := a.state
	return once(ctx, &c.mu, func() *stateBuild[agentwire.State] { return c.servers[server] },
		func(b *stateBuild[agentwire.State]) {
			if b == nil {
				delete(c.servers, server)
			} else {
				c.servers[server] = b
			}
		}, v, func(ctx context.Context) (agentwire.State, error) {
			c.builds.Add(1)
			// The self-test probes first: making one signs a new CRL, which
			// this state then carries (selftest.go).
			probe, err := a.agentProbe(ctx, u, server)
			if err != nil {
				return agentwire.State{}, err
			}
			sh, err := once(ctx, &c.mu, func() *stateBuild[sharedState] { return c.shared },
				func(b *stateBuild[sharedState]) { c.shared = b }, v, a.sharedState)
			if err != nil {
				return agentwire.State{}, err
			}
			files, ruleset, err := a.serverFiles(ctx, u, server, sh.crl.PEM, &sh.fw)
			if err != nil {
				return agentwire.State{}, err
			}
			st := agentwire.State{
				Server: server, Version: v, At: a.now().UTC(),
				CRL:     agentwire.CRL{Number: sh.crl.Number, ThisUpdate: sh.crl.ThisUpdate.UTC(), NextUpdate: sh.crl.NextUpdate.UTC()},
				Revoked: sh.revoked, Refused: sh.refused, End: sh.end, Firewall: ruleset,
				Files: make([]agentwire.File, len(files)), Probe: probe,
			}
			for i, f := range files {
				st.Files[i] = agentwire.File{Name: f.Name, Mode: uint32(f.Mode.Perm()), Data: f.Data}
			}
			st.Hash, err = stateHash(st)
			return st, err
		})
}

// sharedState reads what every server's state holds alike.
func (a *Authority) sharedState(ctx context.Context) (sharedState, error) {
	q := a.db.Q()
	c, err := q.GetCRL(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return sharedState{}, ErrNotInitialized
	}
	if err != nil {
		return sharedState{}, err
	}
	var sh sharedState
	if sh.crl, err = crlInfo(c); err != nil {
		return sharedState{}, err
	}
	now := a.now()
	if sh.revoked, err = q.RevokedUnexpired(ctx, now.Unix()); err != nil {
		return sharedState{}, err
	}
	if sh.refused, err = q.RefusedUsers(ctx); err != nil {
		return sharedState{}, err
	}
	ends, err := q.SessionEnds(ctx, now.Add(-endsWindow).Unix())
	if err != nil {
		return sharedState{}, err
	}
	for _, e := range ends {
		sh.end = append(sh.end, agentwire.End{ID: e.ID, User: e.User, Before: time.Unix(e.Before, 0).UTC(), Reason: e.Reason})
	}
	// Users from before fixed addresses got theirs when serve started
	// (EnsureAddresses, a scan of users by servers): not per version.
	if sh.fw, err = a.firewallShared(ctx, q); err != nil {
		return sharedState{}, err
	}
	return sh, nil
}

// stateHash digests everything of st but Version, At and Hash: an agent
// that holds a state of the same hash has nothing to apply. The JSON of a
// struct has a fixed field order and the lists come sorted from the
// database, so equal states hash alike.
func stateHash(st agentwire.State) (string, error) {
	st.Version, st.At, st.Hash = 0, time.Time{}, ""
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("hashing agent state: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}
