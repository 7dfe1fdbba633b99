package mgmt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxLine bounds one line of OpenVPN output; a longer one ends the
	// connection rather than the agent's memory.
	maxLine = 64 << 10
	// maxReply bounds one multi-line reply (status of many thousands of
	// sessions stays far below it).
	maxReply = 64 << 20

	bannerPrefix   = ">INFO:OpenVPN Management Interface Version"
	passwordPrompt = "ENTER PASSWORD:" // sent without a newline
)

// Log attribute keys.
const (
	logAddr    = "addr"
	logBanner  = "banner"
	logLines   = "lines"
	logDropped = "dropped"
)

// Option configures Dial.
type Option func(*options)

type options struct {
	password string
	logger   *slog.Logger
	notify   func(Notification)
}

// WithPassword gives the password of `management ... PASSWORD-FILE`. It is
// sent once, when OpenVPN asks for it, and never logged.
func WithPassword(password string) Option {
	return func(o *options) { o.password = password }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithNotify sets the handler of real-time notifications. It is called in
// order, on a goroutine of its own, so it may call the Client's methods;
// notifications queue while it runs. Without a handler they are dropped.
func WithNotify(fn func(Notification)) Option {
	return func(o *options) { o.notify = fn }
}

// Notification is a real-time line: ">TYPE:TEXT".
type Notification struct {
	Type string // "LOG", "STATE", "BYTECOUNT_CLI", "HOLD", "CLIENT", "INFO"...
	Text string
}

func parseNotification(line string) Notification {
	typ, text, _ := strings.Cut(strings.TrimPrefix(line, ">"), ":")
	return Notification{Type: typ, Text: text}
}

// Client is one connection to OpenVPN's management interface. Its methods
// may be called from several goroutines; commands go out one at a time.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	log     *slog.Logger
	banner  string
	notes   *noteQueue
	slot    chan struct{} // held from a command's write until its reply
	mu      sync.Mutex
	pending *call
	done    chan struct{} // closed when the reader stops
	err     error         // why it stopped; read after done is closed
	closed  sync.Once
}

type call struct {
	ch chan []string
}

// Dial connects to the management interface at addr ("unix" and a socket
// path, or "tcp" and 127.0.0.1:PORT), answers the password prompt when
// there is one and reads the banner. Give ctx a deadline: OpenVPN serves
// one management client at a time and sends a second one nothing, which
// Dial reports as ErrNoBanner when the deadline passes.
func Dial(ctx context.Context, network, addr string, opts ...Option) (*Client, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	switch network {
	case "unix", "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("%w: network %q (want unix or tcp)", ErrInvalid, network)
	}
	if strings.ContainsAny(o.password, "\x00\r\n") {
		return nil, fmt.Errorf("%w: the password holds a NUL or newline", ErrInvalid)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to management interface: %w", err)
	}
	c := &Client{
		conn:  conn,
		r:     bufio.NewReaderSize(conn, 16<<10),
		log:   o.logger,
		notes: newNoteQueue(o.notify, o.logger),
		slot:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	if err := c.handshake(ctx, o.password); err != nil {
		conn.Close()
		c.notes.close()
		return nil, err
	}
	c.log.Debug("management interface attached", logAddr, addr, logBanner, c.banner)
	go c.readLoop()
	return c, nil
}

// Banner returns the text of OpenVPN's greeting, such as "OpenVPN
// Management Interface Version 5 -- type 'help' for more info".
func (c *Client) Banner() string { return c.banner }

// handshake answers the password prompt and reads up to the banner,
// within ctx.
func (c *Client) handshake(ctx context.Context, password string) error {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	err := c.readBanner(password)
	if !stop() {
		return ctxError("waiting for banner", ctx, ErrNoBanner)
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ctxError("waiting for banner", ctx, ErrNoBanner)
		}
		return err
	}
	return c.conn.SetDeadline(time.Time{})
}

func (c *Client) readBanner(password string) error {
	sent := false
	for {
		line, err := readHandshakeLine(c.r)
		if err != nil {
			return fmt.Errorf("reading management banner: %w", err)
		}
		switch {
		case line == passwordPrompt && password == "":
			return ErrPasswordRequired
		case line == passwordPrompt && sent:
			return ErrBadPassword
		case line == passwordPrompt:
			if _, err := io.WriteString(c.conn, password+"\n"); err != nil {
				return fmt.Errorf("sending management password: %w", err)
			}
			sent = true
		case strings.HasPrefix(line, "ERROR:") && sent:
			return ErrBadPassword
		case strings.HasPrefix(line, bannerPrefix):
			c.banner = strings.TrimPrefix(line, ">INFO:")
			return nil
		case strings.HasPrefix(line, ">"):
			c.notes.push(parseNotification(line))
		}
	}
}

// readHandshakeLine reads a line, or the password prompt, which OpenVPN
// sends without a newline.
func readHandshakeLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		ch, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if ch == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		b = append(b, ch)
		if string(b) == passwordPrompt {
			return passwordPrompt, nil
		}
		if len(b) > maxLine {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLine)
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		frag, err := r.ReadSlice('\n')
		buf = append(buf, frag...)
		if err == nil {
			return strings.TrimRight(string(buf), "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
		if len(buf) > maxLine {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLine)
		}
	}
}

// readLoop sorts OpenVPN's output into notifications and replies until
// the connection ends.
func (c *Client) readLoop() {
	var block []string
	size := 0
	for {
		line, err := readLine(c.r)
		if err != nil {
			c.shut(err)
			return
		}
		switch {
		case strings.HasPrefix(line, ">"):
			c.notes.push(parseNotification(line))
		case block == nil && (strings.HasPrefix(line, "SUCCESS:") || strings.HasPrefix(line, "ERROR:")):
			c.deliver([]string{line})
		case line == "END":
			c.deliver(append(block, line))
			block, size = nil, 0
		default:
			if size += len(line); size > maxReply {
				c.shut(fmt.Errorf("%w: reply larger than %d bytes", ErrMalformed, maxReply))
				return
			}
			block = append(block, line)
		}
	}
}

// deliver hands a reply to the command in flight (which may have given
// up waiting) and frees the slot for the next command.
func (c *Client) deliver(lines []string) {
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	c.mu.Unlock()
	if p == nil {
		c.log.Warn("management output with no command in flight dropped", logLines, len(lines))
		return
	}
	p.ch <- lines
	<-c.slot
}

// shut closes the connection once and records why.
func (c *Client) shut(cause error) {
	c.closed.Do(func() {
		if cause == nil {
			c.err = ErrClosed
		} else {
			c.err = fmt.Errorf("%w: %w", ErrClosed, cause)
		}
		c.conn.Close()
		c.notes.close()
		close(c.done)
	})
}

// Close ends the connection; a command in flight fails with ErrClosed.
// OpenVPN then accepts the next management client.
func (c *Client) Close() error {
	c.shut(nil)
	return nil
}

// Done is closed when the connection has ended (Close, or OpenVPN went
// away); Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// ctxError wraps ctx's error, adding ErrTimeout (or what) for a deadline.
// A socket deadline may fire a moment before ctx notices its own.
func ctxError(doing string, ctx context.Context, what error) error {
	err := ctx.Err()
	if err == nil {
		err = context.DeadlineExceeded
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", doing, what, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// itoa is strconv.Itoa for the few places that format numbers.
func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
