// Package agentwire is the contract between vpnkeys serve and the vpnkeys
// agent beside each OpenVPN server: the paths of the agent listener, the
// JSON bodies they exchange, and the join token's format. It holds types
// and pure functions only, so the control plane (internal/authority,
// internal/web) and the agent (internal/agent) agree by construction.
package agentwire

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Paths served on serve's agent listener (--agent-listen). Join needs no
// client certificate (the token is the credential); the others require an
// agent certificate of the server named in the path.
const (
	PathJoin = "/agent/v1/join"
	// PathState is followed by the server name and "/state":
	// GET /agent/v1/servers/NAME/state?since=VERSION&wait=SECONDS.
	PathServers = "/agent/v1/servers/"
	// QuerySince and QueryWait are PathState's parameters: the version the
	// agent holds, and how long (seconds, at most MaxWait) to hold the
	// request open when nothing is newer. A reply with the same version is
	// not an error: the agent asks again.
	QuerySince = "since"
	QueryWait  = "wait"
)

// MaxWait bounds a long-poll; DefaultWait is what the agent asks for.
const (
	MaxWait     = 120 * time.Second
	DefaultWait = 55 * time.Second
)

// StatePath is the state URL path of server.
func StatePath(server string) string { return PathServers + server + "/state" }

// ReportPath is the report URL path of server (POST, a Report).
func ReportPath(server string) string { return PathServers + server + "/report" }

// RenewPath is the renewal URL path of server (POST, a RenewRequest;
// answered with a JoinResponse). Only the server's current agent
// certificate may call it; the certificate it answers replaces that one,
// which is revoked (superseded) at once.
func RenewPath(server string) string { return PathServers + server + "/renew" }

// JoinRequest is what `vpnkeys agent join` posts: the one-time token's
// secret part and a certificate request for a key made on the agent's
// host, which never leaves it.
type JoinRequest struct {
	Secret string `json:"secret"`
	CSR    []byte `json:"csr"` // DER, PKCS#10
}

// RenewRequest is what a joined agent posts to renew its certificate: a
// certificate request for a NEW key made on its host.
type RenewRequest struct {
	CSR []byte `json:"csr"` // DER, PKCS#10
}

// JoinResponse carries the agent's certificate and the CA to pin.
type JoinResponse struct {
	Server string `json:"server"`
	Cert   []byte `json:"cert"` // PEM
	CA     []byte `json:"ca"`   // PEM
}

// State is the complete desired state of one server at one version: the
// agent applies it whole and idempotently. Version is the control plane's
// change version it reflects; Hash is a digest of everything else, so an
// agent skips a version that changed nothing of its own.
type State struct {
	Server  string    `json:"server"`
	Version int64     `json:"version"`
	Hash    string    `json:"hash"`
	At      time.Time `json:"at"`
	Files   []File    `json:"files"`
	CRL     CRL       `json:"crl"`
	// Revoked lists the unexpired revoked certificates (serial in upper
	// case hex, as OpenVPN's tls_serial_hex_0 without colons): a session
	// using one is ended.
	Revoked []string `json:"revoked"`
	// Refused lists users who hold no active certificate: a session of
	// theirs whose certificate serial is unknown is ended too.
	Refused []string `json:"refused"`
	// End asks to end sessions without revoking (vpnkeys disconnect).
	End []End `json:"end,omitempty"`
	// Firewall is the server's nftables ruleset (the agent loads it with
	// `nft -f`, one transaction replacing only vpnkeys' own table); ""
	// manages no firewall and removes nothing.
	Firewall string `json:"firewall,omitempty"`
	// Probe is the self-test's two probe profiles (issue 14): the agent
	// runs them against its own server on a schedule and reports the
	// result (Report.SelfTest). Kept in memory and the state folder only,
	// never in the server's folder.
	Probe *Probe `json:"probe,omitempty"`
}

// Probe is what the agent's self-test needs: the server's port and
// protocol (it connects over loopback) and the profiles of the valid
// probe and of the revoked one, each holding its private key.
type Probe struct {
	Port    int    `json:"port"`
	Proto   string `json:"proto"`
	Valid   []byte `json:"valid"`
	Revoked []byte `json:"revoked"`
}

// SelfTest is the result of the agent's last self-test: checks "tunnel"
// (the valid probe got a tunnel), "revoked" (the revoked probe was
// refused) and "crl" (the CRL in force is the newest, not near its
// nextUpdate).
type SelfTest struct {
	At     time.Time `json:"at"`
	Checks []Check   `json:"checks"`
}

// Check is one self-test check's outcome.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// File is one file of the server's folder.
type File struct {
	// Name is a base name (server.conf, ca.crt, crl.pem ...) or, for a
	// user's client-config file, CCDPrefix and the user name.
	Name string `json:"name"`
	Mode uint32 `json:"mode"` // 0600, 0644 or 0755
	Data []byte `json:"data"`
}

// CCDPrefix starts the names of client-config files ("ccd/alice"): the
// server folder's ccd/ holds one per user, and nothing else.
const CCDPrefix = "ccd/"

// Files whose change needs OpenVPN restarted; crl.pem (re-read on every
// handshake) never does.
var RestartFiles = []string{"server.conf", "server.crt", "server.key", "ca.crt", "ta.key",
	// The tls-crypt-v2 server key; its verify script and revoked-serials
	// are read anew for each client, as crl.pem is.
	"tls-crypt-v2-server.key"}

// CRL describes the CRL in Files.
type CRL struct {
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
}

// End asks the agent to end User's sessions that began at or before
// Before (a session opened after it is a new login and stays).
type End struct {
	ID     int64     `json:"id"`
	User   string    `json:"user"`
	Before time.Time `json:"before"`
	Reason string    `json:"reason"`
}

// Report is what an agent posts on every change and every report
// interval: what it applied and who is connected.
type Report struct {
	Version       int64             `json:"version"`
	AppliedAt     time.Time         `json:"applied_at"`
	CRLNumber     int64             `json:"crl_number"`
	CRLNextUpdate time.Time         `json:"crl_next_update"`
	Hashes        map[string]string `json:"hashes"` // file name -> sha256 hex
	Error         string            `json:"error,omitempty"`
	Management    bool              `json:"management"` // the management socket answered
	Sessions      []Session         `json:"sessions"`
	Kills         int64             `json:"kills"` // sessions ended since the agent started
	AgentVersion  string            `json:"agent_version"`
	// RestartPending is since when the agent holds back an OpenVPN
	// restart until its restart window opens; zero when none.
	RestartPending time.Time `json:"restart_pending,omitzero"`
	// SelfTest is the last scheduled self-test (nil: none ran yet).
	SelfTest *SelfTest `json:"selftest,omitempty"`
}

// Session is one live OpenVPN session.
type Session struct {
	User        string    `json:"user"`
	Serial      string    `json:"serial,omitempty"` // "" when not known
	RealAddress string    `json:"real_address"`
	VPNAddress  string    `json:"vpn_address"`
	BytesIn     int64     `json:"bytes_in"`
	BytesOut    int64     `json:"bytes_out"`
	Since       time.Time `json:"since"`
	ClientID    int64     `json:"client_id"`
}

// The join token: "vpkj1.<CA fingerprint>.<secret>", where the
// fingerprint is the SHA-256 of the CA certificate's DER in hex, and the
// secret 256 random bits, URL-safe base64. The agent pins the CA with the
// fingerprint on its very first contact; the control plane keeps only a
// hash of the secret.
const tokenPrefix = "vpkj1."

// ErrToken is returned for a string that is not a join token.
var ErrToken = errors.New("not a vpnkeys join token (want vpkj1.<fingerprint>.<secret>)")

// FormatToken builds a join token.
func FormatToken(caFingerprint []byte, secret string) string {
	return tokenPrefix + hex.EncodeToString(caFingerprint) + "." + secret
}

// ParseToken splits a join token into the CA fingerprint and the secret.
func ParseToken(tok string) (fingerprint []byte, secret string, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(tok), tokenPrefix)
	if !ok {
		return nil, "", ErrToken
	}
	fp, secret, ok := strings.Cut(rest, ".")
	if !ok || len(fp) != 2*sha256.Size || len(secret) < 40 {
		return nil, "", ErrToken
	}
	fingerprint, err = hex.DecodeString(fp)
	if err != nil {
		return nil, "", ErrToken
	}
	return fingerprint, secret, nil
}

// Fingerprint is the SHA-256 of a certificate's DER.
func Fingerprint(der []byte) []byte {
	s := sha256.Sum256(der)
	return s[:]
}

// SameFingerprint compares fingerprints in constant time.
func SameFingerprint(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
