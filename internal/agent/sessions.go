package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/ovpn/mgmt"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// Kill messages: the client logs them and exits instead of reconnecting.
const (
	msgRevoked      = "HALT,access revoked"
	msgDisconnected = "HALT,disconnected by an administrator"
)

// mgmtTimeout bounds one conversation with the management interface.
const mgmtTimeout = 5 * time.Second

// ErrNoManagement is a server.conf with no `management PATH unix` line
// and no --management given.
var ErrNoManagement = errors.New("no management socket: server.conf has no `management PATH unix` line and --management is not set")

// serverConf is what the agent reads of server.conf.
type serverConf struct {
	socket, passFile string
	user, group      string
}

// readServerConf reads the management socket and the user and group
// OpenVPN drops to. Relative paths are relative to dir (openvpn --cd).
func readServerConf(dir string) serverConf {
	var c serverConf
	b, err := os.ReadFile(filepath.Join(dir, "server.conf"))
	if err != nil {
		return c
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch {
		case f[0] == "management" && len(f) >= 3 && f[2] == "unix":
			c.socket = abs(dir, f[1])
			if len(f) >= 4 {
				c.passFile = abs(dir, f[3])
			}
		case f[0] == "user":
			c.user = f[1]
		case f[0] == "group":
			c.group = f[1]
		}
	}
	return c
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// sessionDir is where vpnkeys-session.sh records each session's
// certificate: the socket path without ".sock", plus ".sessions".
func sessionDir(socket string) string {
	return strings.TrimSuffix(socket, ".sock") + ".sessions"
}

// prepareRunDir makes the socket's folder (0755) and the session folder
// (0700, owned by OpenVPN's user and group so the hook, which runs after
// OpenVPN dropped privileges, can write it).
func prepareRunDir(c serverConf) error {
	if err := safefile.MkdirAllMode(filepath.Dir(c.socket), 0o755); err != nil {
		return fmt.Errorf("creating run folder: %w", err)
	}
	d := sessionDir(c.socket)
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating session folder: %w", err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return fmt.Errorf("securing session folder: %w", err)
	}
	uid, gid := -1, -1
	if c.user != "" {
		u, err := user.Lookup(c.user)
		if err != nil {
			return fmt.Errorf("looking up server.conf's user %s: %w", c.user, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if c.group != "" {
		g, err := user.LookupGroup(c.group)
		if err != nil {
			return fmt.Errorf("looking up server.conf's group %s: %w", c.group, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if err := os.Lchown(d, uid, gid); err != nil {
		return fmt.Errorf("handing session folder to %s:%s: %w", c.user, c.group, err)
	}
	return nil
}

// sweep is one pass over the live sessions.
type sweep struct {
	sessions []agentwire.Session
	killed   int
	ok       bool // the status was read and every kill went through
}

// kill tells why a session must end ("" when it may stay).
func killReason(s agentwire.Session, revoked map[string]bool, refused map[string]bool, ends []agentwire.End) string {
	if s.Serial != "" {
		if revoked[s.Serial] {
			return msgRevoked
		}
	} else if refused[s.User] {
		return msgRevoked
	}
	for _, e := range ends {
		if e.User == s.User && !s.Since.IsZero() && !s.Since.After(e.Before) {
			return msgDisconnected
		}
	}
	return ""
}

// enforce reads the live sessions through the management socket, ends
// those st says must end, and returns the sessions left. killed keeps the
// client IDs already ended (OpenVPN lists a halted session a few more
// seconds), so none is ended or counted twice.
func enforce(ctx context.Context, c serverConf, st agentwire.State, killed map[uint64]time.Time, log *slog.Logger) (sweep, error) {
	var opts []mgmt.Option
	if c.passFile != "" {
		pw, err := os.ReadFile(c.passFile)
		if err != nil {
			return sweep{}, fmt.Errorf("reading management password: %w", err)
		}
		first, _, _ := strings.Cut(string(pw), "\n")
		opts = append(opts, mgmt.WithPassword(strings.TrimSpace(first)))
	}
	ctx, cancel := context.WithTimeout(ctx, mgmtTimeout)
	defer cancel()
	mc, err := mgmt.Dial(ctx, "unix", c.socket, opts...)
	if err != nil {
		return sweep{}, fmt.Errorf("management socket %s: %w", c.socket, err)
	}
	defer mc.Close()
	status, err := mc.Status(ctx)
	if err != nil {
		return sweep{}, fmt.Errorf("management socket %s: %w", c.socket, err)
	}
	revoked := map[string]bool{}
	for _, s := range st.Revoked {
		if n, err := parseSerial(s); err == nil {
			revoked[serialKey(n)] = true
		}
	}
	refused := map[string]bool{}
	for _, u := range st.Refused {
		refused[u] = true
	}
	for cid, at := range killed {
		if time.Since(at) > time.Minute {
			delete(killed, cid)
		}
	}
	var sw sweep
	dir := sessionDir(c.socket)
	for _, ms := range status.Sessions {
		s := toSession(ms, dir)
		if _, done := killed[ms.ClientID]; done {
			continue
		}
		msg := killReason(s, revoked, refused, st.End)
		if msg == "" {
			sw.sessions = append(sw.sessions, s)
			continue
		}
		err := mc.KillClient(ctx, ms.ClientID, msg)
		if err != nil && !errors.Is(err, mgmt.ErrNotFound) {
			return sw, fmt.Errorf("ending session of %s: %w", s.User, err)
		}
		killed[ms.ClientID] = time.Now()
		sw.killed++
		log.Info("session ended", "user", s.User, "serial", s.Serial, "real_address", s.RealAddress, "message", msg)
	}
	sw.ok = true
	return sw, nil
}

// toSession maps a status row to a reported session, with the serial the
// hook recorded for its real address (when the file names the same
// common name: a stale file of an earlier session on that address is
// ignored).
func toSession(ms mgmt.Session, dir string) agentwire.Session {
	s := agentwire.Session{
		User: ms.CommonName, RealAddress: ms.RealAddress, VPNAddress: ms.VirtualAddress,
		BytesIn: int64(ms.BytesReceived), BytesOut: int64(ms.BytesSent),
		Since: ms.ConnectedSince, ClientID: int64(ms.ClientID),
	}
	if !ms.RealAddr.IsValid() {
		return s
	}
	name := ms.RealAddr.Addr().String() + "," + strconv.Itoa(int(ms.RealAddr.Port()))
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return s
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[1] != ms.CommonName {
		return s
	}
	if n, err := parseSerial(f[0]); err == nil {
		s.Serial = serialKey(n)
	}
	return s
}
