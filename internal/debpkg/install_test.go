package debpkg

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// insideEnv marks the test binary re-run inside the throwaway namespace.
const insideEnv = "VPNKEYS_DEBPKG_INSIDE"

// TestInstall installs the old package, starts the service as its unit
// would, upgrades to the new package with data and an edited conffile in
// place, removes and purges it: all with the real dpkg, inside a new mount
// and network namespace whose /etc, /usr and /var are overlays that vanish
// with it, so the host keeps nothing of it (no user, no files, no port).
func TestInstall(t *testing.T) {
	t.Parallel()
	if !testenv.IsRoot() {
		testenv.Missing(t, "root is needed for dpkg -i and a mount namespace")
	}
	unshare := testenv.LookPath(t, "unshare")
	for _, p := range []string{"dpkg", "systemd-analyze", "adduser", "setpriv", "runuser", "ip", "man", "deb-systemd-helper"} {
		testenv.LookPath(t, p)
	}
	oldDeb, newDeb := debs(t)
	cmd := exec.Command(unshare, "--mount", "--net", "--propagation", "private",
		os.Args[0], "-test.run", "^TestInsideNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), insideEnv+"=1", "VPNKEYS_OLD_DEB="+oldDeb, "VPNKEYS_NEW_DEB="+newDeb,
		"VPNKEYS_UNITS="+topDir(t)+"/packaging/debian", "VPNKEYS_SCRATCH="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		t.Log(line)
	}
	if err != nil || !strings.Contains(out.String(), "--- PASS: TestInsideNamespace") {
		t.Fatalf("the install scenario failed: %v", err)
	}
}
