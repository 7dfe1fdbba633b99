package ovpn

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// SessionHookName is the client-connect and client-disconnect script of
// a server folder: it tells the vpnkeys agent which certificate each
// session uses.
const SessionHookName = "vpnkeys-session.sh"

// DefaultRunDir is where the agent and OpenVPN meet: the management
// socket NAME.sock and the session folder NAME.sessions.
const DefaultRunDir = "/run/vpnkeys-agent"

// ErrRunDir rejects a run folder server.conf and the hook cannot carry.
var ErrRunDir = errors.New("agent run folder")

// runDirChars keeps the folder safe inside server.conf (no spaces, no
// quotes) and inside the hook's single-quoted shell string.
var runDirChars = regexp.MustCompile(`^/[A-Za-z0-9._/-]*$`)

// maxSocketPath is what a unix socket's path may hold (sun_path is 108
// bytes with its terminating NUL).
const maxSocketPath = 107

// ValidRunDir checks a run folder: an absolute, clean path of letters,
// digits and . _ - / only.
func ValidRunDir(dir string) error {
	if !runDirChars.MatchString(dir) || filepath.Clean(dir) != dir || strings.Contains(dir, "/../") {
		return fmt.Errorf("%w %q: want an absolute path of letters, digits and . _ - / such as %s", ErrRunDir, dir, DefaultRunDir)
	}
	return nil
}

// checkRunDir is ValidRunDir plus the socket path's length for server name.
func checkRunDir(dir, name string) error {
	if err := ValidRunDir(dir); err != nil {
		return err
	}
	if p := SocketPath(dir, name); len(p) > maxSocketPath {
		return fmt.Errorf("%w %q: the socket path %s is longer than %d bytes", ErrRunDir, dir, p, maxSocketPath)
	}
	return nil
}

// SocketPath is server name's management socket in dir.
func SocketPath(dir, name string) string { return dir + "/" + name + ".sock" }

// SessionsPath is server name's session folder in dir: the socket's path
// without ".sock", plus ".sessions".
func SessionsPath(dir, name string) string { return dir + "/" + name + ".sessions" }

// sessionHook is vpnkeys-session.sh; SESSIONS is replaced by the session
// folder. OpenVPN runs it as its dropped user (nobody) on every connect
// and disconnect, so it must never fail a login: it always exits 0.
const sessionHook = `#!/bin/sh
# Written by vpnkeys: tells the vpnkeys agent which certificate each session uses,
# so a renewal ends only the old certificate's session. Never fails a login.
d='SESSIONS'
f="$d/${trusted_ip:-$trusted_ip6},$trusted_port"
case "$script_type" in
client-connect) printf '%s %s\n' "$tls_serial_hex_0" "$common_name" >"$f.$$" 2>/dev/null && mv -f "$f.$$" "$f" 2>/dev/null ;;
client-disconnect) rm -f "$f" 2>/dev/null ;;
esac
exit 0
`

// SessionHook renders vpnkeys-session.sh for server name with run folder
// dir (checked: it lands in a single-quoted shell string).
func SessionHook(dir, name string) ([]byte, error) {
	if err := checkRunDir(dir, name); err != nil {
		return nil, err
	}
	if strings.ContainsAny(name, `'"\$`+"`/ \n") || name == "" {
		return nil, fmt.Errorf("server name %q: not usable in a file name", name)
	}
	return []byte(strings.Replace(sessionHook, "SESSIONS", SessionsPath(dir, name), 1)), nil
}
