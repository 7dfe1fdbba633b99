package mgmt

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// secondClient: while c is attached, OpenVPN does not serve a second
// management client. The kernel accepts its connection, but OpenVPN
// sends it nothing until c leaves; then the waiting one gets its prompt.
func secondClient(t *testing.T, l *liveServer, c *Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, "unix", l.sock, WithPassword(mgmtPass))
	if !errors.Is(err, ErrNoBanner) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second client while the first is attached: got %v, want ErrNoBanner", err)
	}
	if _, err := c.Pid(context.Background()); err != nil {
		t.Fatalf("the first client broke: %v", err)
	}
	// A second client that waits is served once the first leaves.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c2, err := Dial(ctx, "unix", l.sock, WithPassword(mgmtPass))
		if err == nil {
			_, err = c2.Pid(ctx)
			c2.Close()
		}
		got <- err
	}()
	time.Sleep(300 * time.Millisecond) // let it connect and wait
	c.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting second client after the first left: %v", err)
	}
}

// notificationsDoNotBreakStatus turns on the streams of real-time lines
// (bytecount every second, the log, state) and checks that they reach the
// handler while Status keeps parsing.
func notificationsDoNotBreakStatus(t *testing.T, l *liveServer) {
	var mu sync.Mutex
	types := map[string]int{}
	c := dial(t, l, WithNotify(func(n Notification) {
		mu.Lock()
		types[n.Type]++
		mu.Unlock()
	}))
	ctx := context.Background()
	for _, cmd := range []string{"bytecount 1", "log on", "state on", "verb 4"} {
		if _, err := c.Command(ctx, cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; ; n++ {
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatalf("status %d: %v", n, err)
		}
		if got := commonNames(st); got != "alice,bob" && got != "bob,alice" {
			t.Fatalf("status %d: got sessions %q, want alice and bob", n, got)
		}
		mu.Lock()
		// BYTECOUNT_CLI comes only for sessions with traffic (idle
		// here), LOG for every command at verb 4.
		seen := types["BYTECOUNT_CLI"] > 0 && types["LOG"] >= 20
		mu.Unlock()
		if seen && n >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d status: notifications seen %v, want BYTECOUNT_CLI and LOG", n, types)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.Command(ctx, "verb 3"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(l.server.Log(), "ERROR") {
		t.Logf("server log:\n%s", l.server.Log())
	}
}
