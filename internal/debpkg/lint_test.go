package debpkg

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestLintian runs Debian's lintian on the package: no error may remain;
// warnings are logged (the package is not meant for the Debian archive, so
// e.g. initial-upload-closes-no-bugs stays).
func TestLintian(t *testing.T) {
	t.Parallel() // lintian (perl), dpkg and the builds use different cores
	lintian := testenv.LookPath(t, "lintian")
	_, deb := debs(t)
	out, err := exec.Command(lintian, "--fail-on", "error", "--display-level", ">=warning", deb).CombinedOutput()
	var errs []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "E: "):
			errs = append(errs, line)
		case strings.HasPrefix(line, "W: "):
			t.Logf("lintian %s", line)
		}
	}
	if err != nil || len(errs) > 0 {
		t.Errorf("lintian: %v, errors:\n%s\n%s", err, strings.Join(errs, "\n"), out)
	}
}

// maxExposure is the worst `systemd-analyze security` score (0 best, 10
// worst) a unit may have; systemd calls up to 2.0 "OK". Hardening that
// slips shows here. The agent runs as root (0.4 of its 2.1): OpenVPN's
// management socket admits root only, and the server folder is root's.
var maxExposure = map[string]float64{"vpnkeys.service": 1.5, "vpnkeys-agent.service": 2.1}

// TestUnitSecurity scores both units offline, as systemd-analyze security
// --offline=true reads a unit file without a running systemd. (The units
// are verified with systemd-analyze verify in TestInstall, where the
// installed binary and man pages exist.)
func TestUnitSecurity(t *testing.T) {
	sa := testenv.LookPath(t, "systemd-analyze")
	score := regexp.MustCompile(`Overall exposure level for (\S+): ([0-9.]+)`)
	for unit, limit := range maxExposure {
		t.Run("ok/"+unit, func(t *testing.T) {
			path := filepath.Join(topDir(t), "packaging", "debian", unit)
			out, err := exec.Command(sa, "security", "--offline=true", "--no-pager", path).CombinedOutput()
			m := score.FindStringSubmatch(string(out))
			if m == nil {
				t.Fatalf("systemd-analyze security: %v, no score in\n%s", err, out)
			}
			got, _ := strconv.ParseFloat(m[2], 64)
			t.Logf("systemd-analyze security %s: exposure %.1f", unit, got)
			if got > limit {
				t.Errorf("got exposure %.1f, want at most %.1f:\n%s", got, limit, out)
			}
		})
	}
}
