package authority

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// probeCache keeps each server's probe profiles between builds of its
// agent state: every change to anything makes a new state for every
// server, and rendering two profiles (two sealed keys opened, two bundles
// rendered) per server per change doubled the time a revocation took to
// reach 500 agents. An entry serves while what the profiles are made of
// is unchanged (the server's remote and mode, the CA certificates, the
// company and contact texts) and until the first probe is due for
// renewal; then probeSet runs again, reading the certificates afresh, so
// every instance renews at the same moment and picks up what another
// instance issued.
type probeCache struct {
	mu sync.Mutex
	m  map[string]probeEntry
}

type probeEntry struct {
	key   string
	until time.Time
	set   ProbeSet
}

// probeInputs names everything a server's probe profiles are made of,
// besides the probe certificates themselves (the server's creation time
// tells a server removed and added again, whose probes are new).
func (a *Authority) probeInputs(u *unlockedCA, srv store.Server) string {
	return fmt.Sprintf("%d|%s|%d|%s|%s|%x|%s|%s", srv.CreatedAt.UnixNano(), srv.Host, srv.Port, srv.Proto, srv.TLSMode,
		sha256.Sum256(u.renderedCA()), a.opts.Company, a.opts.Contact)
}

// cachedProbeSet is probeSet through the cache.
func (a *Authority) cachedProbeSet(ctx context.Context, u *unlockedCA, srv store.Server) (ProbeSet, error) {
	key, now := a.probeInputs(u, srv), a.now()
	c := &a.probes
	c.mu.Lock()
	e, ok := c.m[srv.Name]
	c.mu.Unlock()
	if ok && e.key == key && now.Before(e.until) {
		return e.set, nil
	}
	ps, until, err := a.probeSetUntil(ctx, u, srv)
	if err != nil {
		return ProbeSet{}, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]probeEntry{}
	}
	c.m[srv.Name] = probeEntry{key: key, until: until, set: ps}
	c.mu.Unlock()
	return ps, nil
}
