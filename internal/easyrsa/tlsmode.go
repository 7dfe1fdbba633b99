package easyrsa

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Control-channel modes DetectTLSMode tells apart (ovpn.TLSMode's names).
const (
	ModeTLSCrypt = "tls-crypt"
	ModeTLSAuth  = "tls-auth"
)

// TLSDetection is what DetectTLSMode found in an existing setup's
// OpenVPN configurations.
type TLSDetection struct {
	// Mode is ModeTLSAuth when a configuration uses tls-auth (its
	// clients carry `tls-auth ta.key 1` or key-direction), else
	// ModeTLSCrypt.
	Mode string
	// Reason says why, naming the file and line that decided.
	Reason string
	// TAKey is the path of a ta.key found beside the configurations
	// ("" if none), the static key their servers and clients share.
	TAKey string
}

// configSuffixes are the files DetectTLSMode reads: client profiles and
// gen.sh's distribution files (mycompany_vpn.ovpn, whose client config is
// often called server.conf), server configurations, and vpnkeys templates.
var configSuffixes = []string{".ovpn", ".conf", ".ovpn.tmpl", ".conf.tmpl"}

// DetectTLSMode reads the OpenVPN configurations in dirs (not their
// subfolders; regular files of at most 1 MiB, links skipped) and tells
// whether the setup uses tls-auth: a `tls-auth` option or inline
// <tls-auth> block, or a `key-direction` option, in any of them. A
// folder that does not exist is an error; one without configurations
// decides nothing.
func DetectTLSMode(dirs []string) (TLSDetection, error) {
	d := TLSDetection{Mode: ModeTLSCrypt, Reason: "no OpenVPN configuration was given to look at"}
	read := 0
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return TLSDetection{}, fmt.Errorf("reading OpenVPN configurations: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if name == "ta.key" && e.Type().IsRegular() && d.TAKey == "" {
				d.TAKey = filepath.Join(dir, name)
			}
			if !e.Type().IsRegular() || !slices.ContainsFunc(configSuffixes, func(s string) bool { return strings.HasSuffix(name, s) }) {
				continue
			}
			b, err := readPKIFile(dir, name, maxSmallFile)
			if errors.Is(err, errNotExist) {
				continue
			}
			if err != nil {
				return TLSDetection{}, fmt.Errorf("reading %s: %v", filepath.Join(dir, name), err)
			}
			read++
			if line, n := tlsAuthLine(b); n > 0 && d.Mode != ModeTLSAuth {
				d.Mode = ModeTLSAuth
				d.Reason = fmt.Sprintf("%s line %d: %s", filepath.Join(dir, name), n, line)
			}
		}
	}
	switch {
	case d.Mode == ModeTLSAuth:
	case read > 0:
		d.Reason = fmt.Sprintf("none of the %d OpenVPN configurations found uses tls-auth or key-direction", read)
	case len(dirs) > 0:
		d.Reason = "no OpenVPN configuration (.ovpn, .conf) in " + strings.Join(dirs, ", ")
	}
	return d, nil
}

// tlsAuthLine finds the first line that makes a configuration tls-auth:
// the option (`tls-auth FILE [DIR]`, `--tls-auth`), its inline block, or
// key-direction. Comments (# and ;) are skipped.
func tlsAuthLine(b []byte) (string, int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxSmallFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch strings.TrimPrefix(f[0], "--") {
		case "tls-auth", "<tls-auth>", "key-direction":
			return line, n
		}
	}
	return "", 0
}
