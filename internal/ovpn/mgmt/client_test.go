package mgmt

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// The faults here cannot be caused with a real OpenVPN on demand (a reply
// that comes after the caller gave up, a notification inside a reply
// block, an endless line), so a scripted peer on a loopback TCP socket
// plays OpenVPN's side of the protocol.

// peer accepts one connection, greets it, and hands it to script.
func peer(t *testing.T, script func(r *bufio.Reader, w net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte(">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n"))
		script(bufio.NewReader(conn), conn)
	}()
	return ln.Addr().String()
}

func expectLine(t *testing.T, r *bufio.Reader, want string) bool {
	line, err := r.ReadString('\n')
	if err != nil || line != want+"\n" {
		t.Errorf("peer read %q, %v, want %q", line, err, want)
		return false
	}
	return true
}

func dialPeer(t *testing.T, addr string, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "tcp", addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A reply that comes after its caller gave up is dropped, not handed to
// the next command, which goes out only after it; notifications inside a
// reply block go to the handler.
func TestLateReplyAndNotificationsInBlock(t *testing.T) {
	release := make(chan struct{})
	addr := peer(t, func(r *bufio.Reader, w net.Conn) {
		if !expectLine(t, r, "status 3") {
			return
		}
		<-release
		w.Write([]byte("TITLE\tx\r\n>LOG:1,I,hello\r\nHEADER\tCLIENT_LIST\tCommon Name\tClient ID\r\n" +
			">BYTECOUNT_CLI:4,10,20\r\nCLIENT_LIST\tbob\t4\r\nEND\r\n"))
		if !expectLine(t, r, "pid") {
			return
		}
		w.Write([]byte("SUCCESS: pid=42\r\n"))
		expectLine(t, r, `status 3`)
		w.Write([]byte(">LOG:2,I,again\r\nHEADER\tCLIENT_LIST\tCommon Name\tClient ID\r\nCLIENT_LIST\tbob\t4\r\nEND\r\n"))
	})
	notes := make(chan Notification, 10)
	c := dialPeer(t, addr, WithNotify(func(n Notification) { notes <- n }))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Status(ctx); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	pid := make(chan error, 1)
	go func() {
		n, err := c.Pid(context.Background())
		if err == nil && n != 42 {
			err = errors.New("got pid " + itoa(uint64(n)) + ", want 42")
		}
		pid <- err
	}()
	close(release)
	if err := <-pid; err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background())
	if err != nil || commonNames(st) != "bob" || st.Sessions[0].ClientID != 4 {
		t.Fatalf("got %+v, %v, want bob with CID 4", st, err)
	}
	want := []Notification{{"LOG", "1,I,hello"}, {"BYTECOUNT_CLI", "4,10,20"}, {"LOG", "2,I,again"}}
	for i := range want {
		select {
		case n := <-notes:
			if n != want[i] {
				t.Errorf("notification %d: got %v, want %v", i, n, want[i])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("notification %d never came, want %v", i, want[i])
		}
	}
}

// A line longer than maxLine ends the connection with ErrMalformed, and
// the command in flight fails with ErrClosed.
func TestEndlessLine(t *testing.T) {
	addr := peer(t, func(r *bufio.Reader, w net.Conn) {
		if expectLine(t, r, "pid") {
			w.Write([]byte(strings.Repeat("x", 2*maxLine)))
			r.ReadString('\n') // wait for the client to hang up
		}
	})
	c := dialPeer(t, addr)
	_, err := c.Pid(context.Background())
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrClosed and ErrMalformed", err)
	}
	if _, err := c.Pid(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after: got %v, want ErrClosed", err)
	}
}

// A peer that is not a management interface (no banner) fails Dial at
// its deadline with ErrNoBanner.
func TestDialNoBanner(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrNoBanner) {
		t.Fatalf("got %v, want ErrNoBanner", err)
	}
	if _, err := Dial(ctx, "udp", ln.Addr().String()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("udp: got %v, want ErrInvalid", err)
	}
}
