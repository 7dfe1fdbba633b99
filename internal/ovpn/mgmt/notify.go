package mgmt

import (
	"log/slog"
	"sync"
)

// maxQueued bounds the notifications waiting for a slow handler; beyond
// it the oldest are dropped (and counted in a warning).
const maxQueued = 10000

// noteQueue hands notifications to the handler on a goroutine of its own,
// so the reader never waits for it and the handler may send commands.
type noteQueue struct {
	fn      func(Notification)
	log     *slog.Logger
	mu      sync.Mutex
	items   []Notification
	dropped int
	closed  bool
	wake    chan struct{}
}

func newNoteQueue(fn func(Notification), log *slog.Logger) *noteQueue {
	q := &noteQueue{fn: fn, log: log, wake: make(chan struct{}, 1)}
	if fn != nil {
		go q.run()
	}
	return q
}

func (q *noteQueue) push(n Notification) {
	if q.fn == nil {
		return
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if len(q.items) >= maxQueued {
		q.items = q.items[1:]
		q.dropped++
	}
	q.items = append(q.items, n)
	q.mu.Unlock()
	q.signal()
}

func (q *noteQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *noteQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run delivers in order; after close it delivers what was queued, then
// returns.
func (q *noteQueue) run() {
	for range q.wake {
		q.mu.Lock()
		items, dropped, closed := q.items, q.dropped, q.closed
		q.items, q.dropped = nil, 0
		q.mu.Unlock()
		if dropped > 0 {
			q.log.Warn("management notifications dropped: handler too slow", logDropped, dropped)
		}
		for _, n := range items {
			q.fn(n)
		}
		if closed {
			return
		}
	}
}
