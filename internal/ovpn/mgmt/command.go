package mgmt

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Command sends one command line and returns its reply: for a one-line
// "SUCCESS: text" reply, the text; for a multi-line reply, its lines
// without the final END. An "ERROR: text" reply is a *CommandError. The
// line must be printable ASCII (no newline can reach the socket), and the
// command must be one that replies (OpenVPN's `version N` does not).
func (c *Client) Command(ctx context.Context, line string) ([]string, error) {
	name, _, _ := strings.Cut(line, " ")
	if err := checkText("command", line, 1024); err != nil {
		return nil, err
	}
	return c.do(ctx, name, line)
}

// do runs one command: it waits for the slot (the previous command's
// reply), writes the line and waits for the reply, each within ctx.
func (c *Client) do(ctx context.Context, name, line string) ([]string, error) {
	select {
	case <-c.done:
		return nil, fmt.Errorf("%s: %w", name, c.err)
	default:
	}
	select {
	case c.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(name, ctx, ErrTimeout)
	case <-c.done:
		return nil, fmt.Errorf("%s: %w", name, c.err)
	}
	if ctx.Err() != nil { // do not send what the caller no longer waits for
		<-c.slot
		return nil, ctxError(name, ctx, ErrTimeout)
	}
	p := &call{ch: make(chan []string, 1)}
	c.mu.Lock()
	c.pending = p
	c.mu.Unlock()
	if err := c.write(ctx, line); err != nil {
		c.mu.Lock()
		c.pending = nil
		c.mu.Unlock()
		<-c.slot
		// Part of the line may have gone out: the stream can no longer
		// be trusted.
		c.shut(err)
		return nil, fmt.Errorf("%s: sending: %w", name, err)
	}
	select {
	case lines := <-p.ch:
		return reply(name, lines)
	case <-ctx.Done():
	case <-c.done:
	}
	// The reader hands over a reply before it can stop: one that came
	// with the end of the connection (or of ctx) still counts.
	select {
	case lines := <-p.ch:
		return reply(name, lines)
	default:
	}
	if ctx.Err() != nil {
		return nil, ctxError(name, ctx, ErrTimeout)
	}
	return nil, fmt.Errorf("%s: %w", name, c.err)
}

func (c *Client) write(ctx context.Context, line string) error {
	dl, _ := ctx.Deadline()
	c.conn.SetWriteDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	_, err := io.WriteString(c.conn, line+"\n")
	return err
}

func reply(name string, lines []string) ([]string, error) {
	first := lines[0]
	switch {
	case strings.HasPrefix(first, "ERROR:"):
		return nil, &CommandError{Command: name, Text: strings.TrimSpace(strings.TrimPrefix(first, "ERROR:"))}
	case strings.HasPrefix(first, "SUCCESS:"):
		return []string{strings.TrimSpace(strings.TrimPrefix(first, "SUCCESS:"))}, nil
	}
	return lines[:len(lines)-1], nil // without END
}

// checkText refuses what could not travel as one argument of one line:
// anything but printable ASCII, and more than max bytes.
func checkText(what, s string, max int) error {
	if len(s) == 0 || len(s) > max {
		return fmt.Errorf("%w: %s must be 1 to %d bytes", ErrInvalid, what, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("%w: %s holds a control or non-ASCII byte at %d", ErrInvalid, what, i)
		}
	}
	return nil
}
