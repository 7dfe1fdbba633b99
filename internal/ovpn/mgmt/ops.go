package mgmt

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// maxKillMessage keeps client-kill's message well inside OpenVPN's
// command and control-message buffers.
const maxKillMessage = 200

// KillClient ends session cid (Session.ClientID) with `client-kill CID
// MESSAGE`. message is what the client is told: "HALT" or "HALT,reason"
// makes it exit ("Halt command was pushed by server ('reason')");
// "RESTART[,reason]" (OpenVPN's default, also used when message is "")
// makes it reconnect. A session that is gone gives ErrNotFound.
func (c *Client) KillClient(ctx context.Context, cid uint64, message string) error {
	line := "client-kill " + itoa(cid)
	if message != "" {
		if err := checkKillMessage(message); err != nil {
			return err
		}
		line += ` "` + message + `"`
	}
	_, err := c.do(ctx, "client-kill", line)
	if err != nil && isCommandError(err) {
		// OpenVPN's only failure here: no session has that CID.
		return fmt.Errorf("killing client %d: %w: %w", cid, ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("killing client %d: %w", cid, err)
	}
	return nil
}

func checkKillMessage(m string) error {
	if err := checkText("kill message", m, maxKillMessage); err != nil {
		return err
	}
	if strings.ContainsAny(m, `"\`) {
		return fmt.Errorf("%w: kill message may not hold a quote or backslash", ErrInvalid)
	}
	verb, _, _ := strings.Cut(m, ",")
	if verb != "HALT" && verb != "RESTART" {
		return fmt.Errorf("%w: kill message must start with HALT or RESTART", ErrInvalid)
	}
	return nil
}

// KillCommonName ends, with `kill CN`, every session whose common name is
// cn, and returns how many ended. OpenVPN tells those clients nothing:
// they reconnect after their ping-restart. Prefer KillClient with HALT.
func (c *Client) KillCommonName(ctx context.Context, cn string) (int, error) {
	if err := checkText("common name", cn, 127); err != nil {
		return 0, err
	}
	// OpenVPN reads "A:B" as an address and port; quotes and backslashes
	// would be unquoted by its lexer.
	if strings.ContainsAny(cn, `:"\`) {
		return 0, fmt.Errorf("%w: common name may not hold ':', a quote or a backslash", ErrInvalid)
	}
	lines, err := c.do(ctx, "kill", `kill "`+cn+`"`)
	if err != nil && isCommandError(err) {
		return 0, fmt.Errorf("killing common name %s: %w: %w", cn, ErrNotFound, err)
	}
	if err != nil {
		return 0, fmt.Errorf("killing common name %s: %w", cn, err)
	}
	if len(lines) != 1 {
		return 0, fmt.Errorf("%w: kill reply %q", ErrMalformed, lines)
	}
	// "common name 'CN' found, N client(s) killed"
	_, after, _ := strings.Cut(lines[0], "found, ")
	n, _, _ := strings.Cut(after, " ")
	killed, err := strconv.Atoi(n)
	if err != nil {
		return 0, fmt.Errorf("%w: kill reply %q", ErrMalformed, lines[0])
	}
	return killed, nil
}

// VersionInfo is what `version` reports.
type VersionInfo struct {
	OpenVPN    string // "OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] ..."
	Management int    // the management protocol version, 5 for 2.6
}

// Version runs `version`.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	lines, err := c.do(ctx, "version", "version")
	if err != nil {
		return VersionInfo{}, err
	}
	var v VersionInfo
	for _, l := range lines {
		if s, ok := strings.CutPrefix(l, "OpenVPN Version: "); ok {
			v.OpenVPN = s
		}
		if s, ok := strings.CutPrefix(l, "Management Version: "); ok {
			if v.Management, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
				return VersionInfo{}, fmt.Errorf("%w: version reply %q", ErrMalformed, l)
			}
		}
	}
	if v.OpenVPN == "" || v.Management == 0 {
		return VersionInfo{}, fmt.Errorf("%w: version reply %q", ErrMalformed, lines)
	}
	return v, nil
}

// Pid runs `pid`: the OpenVPN process's ID.
func (c *Client) Pid(ctx context.Context) (int, error) {
	lines, err := c.do(ctx, "pid", "pid")
	if err != nil {
		return 0, err
	}
	if len(lines) != 1 {
		return 0, fmt.Errorf("%w: pid reply %q", ErrMalformed, lines)
	}
	s, ok := strings.CutPrefix(lines[0], "pid=")
	pid, err := strconv.Atoi(s)
	if !ok || err != nil || pid <= 0 {
		return 0, fmt.Errorf("%w: pid reply %q", ErrMalformed, lines[0])
	}
	return pid, nil
}
