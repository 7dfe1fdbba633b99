package authority

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// How the hub learns of changes other processes commit: PostgreSQL
// notifies every instance at commit (store.ListenChanges), and a slow poll
// of the version is the safety net; SQLite has no notifications, so a
// `vpnkeys revoke` run beside serve is found by a quick poll of one row of
// a local file (ten reads a second, only while agents wait): the poll is
// most of a CLI revoke's way to the agents, so it sets how close to
// "within a second" SQLite gets.
const (
	pollPostgres = 10 * time.Second
	pollSQLite   = 100 * time.Millisecond
	// watchLinger keeps the watcher running this long after its last
	// waiter left: an agent asks again right after each answer, and
	// should not cost a new LISTEN connection every time.
	watchLinger = time.Minute
)

// hub is the in-memory newest change version of this process and a
// broadcast of its growth: WaitChange's waiters compare against it, so
// a wake-up costs no query per waiter. It grows from three sources:
//   - this process's commits: recordChange marks the transaction with the
//     version it recorded, and tx.go publishes it once the commit succeeded;
//   - PostgreSQL NOTIFY, heard by the watcher (other instances' commits);
//   - the watcher's poll of the version (a missed notification, or SQLite).
//
// The watcher starts with the first waiter (or WatchChanges) and stops
// watchLinger after the last one left.
type hub struct {
	mu      sync.Mutex
	version int64
	changed chan struct{} // closed, and replaced, when version grows
	pending map[*store.Queries]int64

	poll     time.Duration // how often the watcher reads the version; 0: by dialect
	users    int           // waiters and WatchChanges calls holding the watcher
	stop     func()        // ends the running watcher; nil when none runs
	lingerer *time.Timer   // stops the watcher after the last user left
}

func newHub() *hub {
	return &hub{changed: make(chan struct{}), pending: map[*store.Queries]int64{}}
}

// current is the newest version known and a channel closed when it grows.
func (h *hub) current() (int64, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version, h.changed
}

// publish raises the known version to v and wakes every waiter; an older
// or equal v changes nothing.
func (h *hub) publish(v int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v <= h.version {
		return
	}
	h.version = v
	close(h.changed)
	h.changed = make(chan struct{})
}

// mark records that transaction q recorded change version v.
func (h *hub) mark(q *store.Queries, v int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v > h.pending[q] {
		h.pending[q] = v
	}
}

// settle forgets q's mark and publishes it when q committed.
func (h *hub) settle(q *store.Queries, committed bool) {
	if q == nil {
		return
	}
	h.mu.Lock()
	v, ok := h.pending[q]
	delete(h.pending, q)
	h.mu.Unlock()
	if ok && committed {
		h.publish(v)
	}
}

// acquire holds the watcher, starting it with start when none runs.
func (h *hub) acquire(start func(ctx context.Context)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users++
	if h.lingerer != nil {
		h.lingerer.Stop()
		h.lingerer = nil
	}
	if h.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h.stop = cancel
		go start(ctx)
	}
}

// release lets go of the watcher, which stops watchLinger after its last
// user left.
func (h *hub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users--
	if h.users > 0 || h.stop == nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(watchLinger, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.lingerer == t && h.users == 0 && h.stop != nil {
			h.stop()
			h.stop, h.lingerer = nil, nil
		}
	})
	h.lingerer = t
}

// WaitChange returns the newest change version as soon
// as it is above since, or when ctx ends (then the version it knows, and
// no error). The version is the one this process holds in memory (hub),
// kept current by its own commits, PostgreSQL notifications and a poll,
// so any number of waiters cost no query when a change wakes them. The
// first waiter starts the watcher that feeds it (see WatchChanges).
func (a *Authority) WaitChange(ctx context.Context, since int64) (int64, error) {
	a.hub.acquire(a.watch)
	defer a.hub.release()
	v, changed := a.hub.current()
	for v <= since {
		select {
		case <-ctx.Done():
			return v, nil
		case <-changed:
			v, changed = a.hub.current()
		}
	}
	return v, nil
}

// WatchChanges keeps this process's change version current until ctx
// ends: serve may call it at start so the first long-poll of an agent
// does not wait for the watcher's first read. Without it the watcher
// starts with the first WaitChange and stops a minute after the last.
func (a *Authority) WatchChanges(ctx context.Context) {
	a.hub.acquire(a.watch)
	<-ctx.Done()
	a.hub.release()
}

// watch feeds the hub until ctx ends: it reads the version at once, then
// listens for PostgreSQL notifications and polls the version.
func (a *Authority) watch(ctx context.Context) {
	poke := make(chan struct{}, 1)
	interval := pollSQLite
	if a.db.Dialect() == store.Postgres {
		interval = pollPostgres
		go func() {
			err := a.db.ListenChanges(ctx, func(v int64) {
				if v == 0 { // (re)started listening: read what was missed
					select {
					case poke <- struct{}{}:
					default:
					}
					return
				}
				a.hub.publish(v)
			}, func(err error) { a.log.Warn("listening for changes, retrying", "err", err) })
			if err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("listening for changes stopped", "err", err)
			}
		}()
	}
	if a.hub.poll > 0 {
		interval = a.hub.poll
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if v, err := a.db.Q().Version(ctx); err == nil {
			a.hub.publish(v)
		} else if ctx.Err() == nil {
			a.log.Warn("polling the change version", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
	}
}
