package agent

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// The files of the agent's state folder (--state, mode 0700).
const (
	KeyFile      = "agent.key"  // the agent's private key, 0600, made on this host
	CertFile     = "agent.crt"  // its certificate, from the control plane
	CAFile       = "ca.crt"     // the CA pinned at join, the only root trusted
	IdentityFile = "agent.json" // Identity
	StateFile    = "state.json" // the last applied agentwire.State, 0600
)

// Errors a front end may test with errors.Is. Their kinds decide the
// CLI's exit code.
var (
	// ErrInvalid is bad input: a malformed URL, token or flag.
	ErrInvalid = fault.New(fault.Invalid, "invalid", "invalid agent input")
	// ErrNotJoined is a state folder without a usable identity.
	ErrNotJoined = fault.New(fault.Invalid, "not_joined", "agent has not joined a control plane")
	// ErrPin is a control plane whose CA does not match the token's
	// fingerprint, or whose certificate that CA did not sign.
	ErrPin = fault.New(fault.Unauthorized, "ca_mismatch", "the control plane's CA does not match the join token's fingerprint")
	// ErrRefused is an error answer of the control plane.
	ErrRefused = fault.New(fault.Unauthorized, "refused", "refused by the control plane")
	// ErrMalformedState is a state from the control plane that the agent
	// will not apply; the previous state stays in force.
	ErrMalformedState = errors.New("malformed state")
)

// Identity is what join leaves in agent.json: where the control plane
// is and which server this agent keeps.
type Identity struct {
	URL    string `json:"url"`
	Server string `json:"server"`
}

// ParseURL checks a control plane URL: https, a host, no path beyond
// "/", no user, query or fragment (a token never goes in a URL).
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: control plane URL %q does not parse (want https://HOST[:PORT])", ErrInvalid, raw)
	}
	if u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: control plane URL %q: want https://HOST[:PORT]", ErrInvalid, u.Redacted())
	}
	u.Path = ""
	return u, nil
}

// validServer checks a server name the control plane sent before it
// names a URL path or a file: the rule of every vpnkeys name.
func validServer(s string) bool { return account.ValidName(s) == nil }

// loaded is a joined agent's identity with its TLS material.
type loaded struct {
	Identity
	base *url.URL
	cert tls.Certificate
	ca   *x509.Certificate
}

// load reads the state folder left by Join.
func load(stateDir string) (*loaded, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, IdentityFile))
	if err != nil {
		return nil, ErrNotJoined.With(err)
	}
	var l loaded
	if err := json.Unmarshal(b, &l.Identity); err != nil || !validServer(l.Server) {
		return nil, ErrNotJoined.With(fmt.Errorf("reading %s: not an agent identity", IdentityFile))
	}
	if l.base, err = ParseURL(l.URL); err != nil {
		return nil, ErrNotJoined.With(err)
	}
	// A renewal cut short by a crash is finished first (renew.go).
	if err := finishRenewal(stateDir); err != nil {
		return nil, ErrNotJoined.With(err)
	}
	l.cert, err = tls.LoadX509KeyPair(filepath.Join(stateDir, CertFile), filepath.Join(stateDir, KeyFile))
	if err != nil {
		return nil, ErrNotJoined.With(fmt.Errorf("reading agent certificate and key: %w", err))
	}
	caPEM, err := os.ReadFile(filepath.Join(stateDir, CAFile))
	if err != nil {
		return nil, ErrNotJoined.With(err)
	}
	if l.ca, err = parseCertPEM(caPEM); err != nil {
		return nil, ErrNotJoined.With(fmt.Errorf("reading %s: %w", CAFile, err))
	}
	return &l, nil
}

// hostOf is the name a control plane's certificate must carry: the URL's
// host without brackets or port.
func hostOf(u *url.URL) string {
	h := u.Hostname()
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}
