package agent

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// AllowedFiles are the only base names a state may write into the
// server's folder: what `vpnkeys server files` writes. Besides them only
// client-config files, agentwire.CCDPrefix and a valid user name, are
// allowed; anything else (another path, a dot file, another name)
// rejects the whole state.
var AllowedFiles = []string{"server.conf", "ca.crt", "server.crt", "server.key", "ta.key", "crl.pem", "vpnkeys-session.sh",
	// A tls-crypt-v2 server's (ovpn.TLSCryptV2ServerKeyName, ovpn.TLSCryptV2VerifyName, ovpn.RevokedSerialsName).
	"tls-crypt-v2-server.key", "tls-crypt-v2-verify.sh", "revoked-serials"}

// allowedModes are the file modes a state may ask for.
var allowedModes = []uint32{0o600, 0o644, 0o755}

// maxFile bounds one file of a state, maxRuleset its firewall ruleset
// (10,000 users in 100 groups render about 1 MB).
const (
	maxFile    = 4 << 20
	maxRuleset = 64 << 20
)

// Validate checks a state from the control plane before anything of it is
// applied: it is for server, names only allowed files once each with an
// allowed mode, and its serials and user names parse. An error wraps
// ErrMalformedState and names the first problem.
func Validate(st agentwire.State, server string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformedState, fmt.Sprintf(format, args...))
	}
	if st.Server != server {
		return bad("state of server %q, want %q", st.Server, server)
	}
	if st.Version < 0 || st.Hash == "" {
		return bad("no version or hash")
	}
	seen := map[string]bool{}
	for _, f := range st.Files {
		if !allowedName(f.Name) {
			return bad("file name %q is not one of %s, or %sUSER", f.Name, strings.Join(AllowedFiles, ", "), agentwire.CCDPrefix)
		}
		if seen[f.Name] {
			return bad("file %s given twice", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(allowedModes, f.Mode) {
			return bad("file %s: mode %04o is not 0600, 0644 or 0755", f.Name, f.Mode)
		}
		if len(f.Data) > maxFile {
			return bad("file %s: %d bytes is too large", f.Name, len(f.Data))
		}
	}
	if st.Firewall != "" {
		if len(st.Firewall) > maxRuleset {
			return bad("firewall ruleset of %d bytes is too large", len(st.Firewall))
		}
		if err := ownTableOnly(st.Firewall); err != nil {
			return bad("%v", err)
		}
	}
	for _, s := range st.Revoked {
		if _, err := parseSerial(s); err != nil {
			return bad("revoked serial %q: %v", s, err)
		}
	}
	for _, u := range st.Refused {
		if account.ValidName(u) != nil {
			return bad("refused user %q is not a valid name", u)
		}
	}
	for _, e := range st.End {
		if account.ValidName(e.User) != nil || e.Before.IsZero() {
			return bad("end entry %d: user %q, before %v", e.ID, e.User, e.Before)
		}
	}
	return nil
}

// allowedName tells whether a state may write the file name: one of
// AllowedFiles, a user's client-config file "ccd/USER", or a self-test
// probe's.
func allowedName(name string) bool {
	if user, ok := strings.CutPrefix(name, agentwire.CCDPrefix); ok {
		// The self-test probes' files: "ccd/probe:SERVER", "ccd/probe-revoked:SERVER".
		for _, p := range []string{"probe:", "probe-revoked:"} {
			if server, ok := strings.CutPrefix(user, p); ok {
				return account.ValidName(server) == nil
			}
		}
		return account.ValidName(user) == nil
	}
	return slices.Contains(AllowedFiles, name) && filepath.Base(name) == name
}

// parseSerial reads a certificate serial in any of the forms it comes
// in: "0A1B" (the store), "0a:1b" (OpenVPN's tls_serial_hex_0), with or
// without leading zeros.
func parseSerial(s string) (*big.Int, error) {
	h := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	if h == "" || len(h) > 64 {
		return nil, fmt.Errorf("not a serial")
	}
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || n.Sign() < 0 {
		return nil, fmt.Errorf("not a hex serial")
	}
	return n, nil
}

// serialKey is the canonical form of a serial: upper case hex of even
// length, as the store and openssl write it.
func serialKey(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// fileHashes maps each file of st to its SHA-256 in hex, for reports;
// the client-config files (one per user: too many to list) share one
// entry, "ccd/", the SHA-256 of their names and contents in order.
func fileHashes(st agentwire.State) map[string]string {
	m := make(map[string]string, len(AllowedFiles)+1)
	ccd := sha256.New()
	n := 0
	for _, f := range st.Files {
		if strings.HasPrefix(f.Name, agentwire.CCDPrefix) {
			fmt.Fprintf(ccd, "%s\x00%d\x00", f.Name, len(f.Data))
			ccd.Write(f.Data)
			n++
			continue
		}
		s := sha256.Sum256(f.Data)
		m[f.Name] = hex.EncodeToString(s[:])
	}
	if n > 0 {
		m[agentwire.CCDPrefix] = hex.EncodeToString(ccd.Sum(nil))
	}
	return m
}

// crlNextUpdate reads the nextUpdate of the crl.pem that st holds, or of
// st.CRL when the file does not parse.
func crlNextUpdate(st agentwire.State) time.Time {
	for _, f := range st.Files {
		if f.Name != "crl.pem" {
			continue
		}
		if blk, _ := pem.Decode(f.Data); blk != nil {
			if crl, err := x509.ParseRevocationList(blk.Bytes); err == nil {
				return crl.NextUpdate
			}
		}
	}
	return st.CRL.NextUpdate
}

// saveState keeps st as the last applied state (it holds server.key:
// 0600 in the 0700 state folder).
func saveState(stateDir string, st agentwire.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	return safefile.WriteFile(filepath.Join(stateDir, StateFile), b, safefile.SecretMode)
}

// loadState reads the last applied state; ok is false when there is none.
func loadState(stateDir string) (agentwire.State, bool, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, StateFile))
	if os.IsNotExist(err) {
		return agentwire.State{}, false, nil
	}
	if err != nil {
		return agentwire.State{}, false, fmt.Errorf("reading saved state: %w", err)
	}
	var st agentwire.State
	if err := json.Unmarshal(b, &st); err != nil {
		return agentwire.State{}, false, fmt.Errorf("reading saved state: %w", err)
	}
	return st, true, nil
}
