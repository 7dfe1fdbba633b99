// Package testenv finds the real programs that tests run against (OpenVPN,
// easy-rsa, PostgreSQL, Chromium, openssl). A test that needs one calls
// LookPath: on a developer machine a missing program skips the test, under
// CI (CI=true) it fails it, so a green CI run means the real thing ran.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test under CI and skips it elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but "+format, args...)
	}
	t.Skipf(format, args...)
}

// LookPath returns the absolute path of the first of names found on PATH or
// as an absolute path, and calls Missing when none is.
func LookPath(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if filepath.IsAbs(n) {
			if _, err := os.Stat(n); err == nil {
				return n
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, "none of %v is installed (make test installs them)", names)
	return ""
}

// EasyRSA returns the path of Debian's easyrsa script.
func EasyRSA(t testing.TB) string {
	t.Helper()
	return LookPath(t, "/usr/share/easy-rsa/easyrsa", "easyrsa")
}

// OpenVPN returns the path of the openvpn binary.
func OpenVPN(t testing.TB) string {
	t.Helper()
	return LookPath(t, "/usr/sbin/openvpn", "openvpn")
}

// OpenSSL returns the path of the openssl binary.
func OpenSSL(t testing.TB) string {
	t.Helper()
	return LookPath(t, "openssl")
}

// IsRoot reports whether the tests run as root (needed for network
// namespaces, tun devices and PostgreSQL's postgres user switch).
func IsRoot() bool { return os.Geteuid() == 0 }
