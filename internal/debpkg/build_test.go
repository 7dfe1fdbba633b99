package debpkg

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// Versions of the two packages the tests build from this tree: the upgrade
// test installs the old one, then the new one over it.
const (
	oldUpstream = "0.0.9"
	newUpstream = "0.1.0"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  string
)

// topDir is the repository's top folder.
func topDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// debs builds the old and the new package for this machine's architecture
// once per test run and returns their paths.
func debs(t *testing.T) (oldDeb, newDeb string) {
	t.Helper()
	testenv.LookPath(t, "dpkg-deb")
	top := topDir(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpnkeys-deb-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		buildDir = dir
		// Both at once: linking is mostly one core each.
		versions := []string{oldUpstream, newUpstream}
		errs := make([]string, len(versions))
		var wg sync.WaitGroup
		for i, v := range versions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(filepath.Join(top, "packaging", "build-deb.sh"), runtime.GOARCH)
				cmd.Env = append(os.Environ(), "UPSTREAM="+v, "DEBVERSION="+v+"-1", "OUT="+dir, "COMPRESS=gzip")
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = "build-deb.sh " + v + ": " + err.Error() + "\n" + string(out)
				}
			}()
		}
		wg.Wait()
		buildErr = strings.Join(errs, "")
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	name := func(v string) string { return filepath.Join(buildDir, "vpnkeys_"+v+"-1_"+runtime.GOARCH+".deb") }
	return name(oldUpstream), name(newUpstream)
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestContents checks what the package holds, with owners and modes, and
// its control data.
func TestContents(t *testing.T) {
	t.Parallel()
	_, deb := debs(t)
	contents := dpkgDeb(t, "--contents", deb)
	files := map[string]string{} // path -> "mode owner"
	for _, line := range strings.Split(strings.TrimSpace(contents), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb --contents line %q", line)
		}
		files[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
	}
	for path, want := range map[string]string{
		"/usr/bin/vpnkeys":                                  "-rwxr-xr-x root/root",
		"/lib/systemd/system/vpnkeys.service":               "-rw-r--r-- root/root",
		"/lib/systemd/system/vpnkeys-agent.service":         "-rw-r--r-- root/root",
		"/usr/lib/tmpfiles.d/vpnkeys-agent.conf":            "-rw-r--r-- root/root",
		"/usr/share/man/man1/vpnkeys-agent-run.1.gz":        "-rw-r--r-- root/root",
		"/etc/vpnkeys/vpnkeys.toml":                         "-rw-r--r-- root/root",
		"/usr/share/man/man1/vpnkeys.1.gz":                  "-rw-r--r-- root/root",
		"/usr/share/man/man1/vpnkeys-serve.1.gz":            "-rw-r--r-- root/root",
		"/usr/share/man/man1/vpnkeys-backup.1.gz":           "-rw-r--r-- root/root",
		"/usr/share/man/man1/vpnkeys-server-files.1.gz":     "-rw-r--r-- root/root",
		"/usr/share/bash-completion/completions/vpnkeys":    "-rw-r--r-- root/root",
		"/usr/share/zsh/vendor-completions/_vpnkeys":        "-rw-r--r-- root/root",
		"/usr/share/fish/vendor_completions.d/vpnkeys.fish": "-rw-r--r-- root/root",
		"/usr/share/doc/vpnkeys/README.Debian":              "-rw-r--r-- root/root",
		"/usr/share/doc/vpnkeys/copyright":                  "-rw-r--r-- root/root",
		"/usr/share/doc/vpnkeys/changelog.Debian.gz":        "-rw-r--r-- root/root",
	} {
		t.Run("ok"+path, func(t *testing.T) {
			if got := files[path]; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	t.Run("ok/a-man-page-per-command", func(t *testing.T) {
		pages := 0
		for p := range files {
			if strings.HasPrefix(p, "/usr/share/man/man1/vpnkeys") && strings.HasSuffix(p, ".1.gz") {
				pages++
			}
		}
		if pages < 30 {
			t.Errorf("got %d man pages, want one per command (30 or more)", pages)
		}
	})
	t.Run("ok/nothing-under-var", func(t *testing.T) {
		for p := range files {
			if strings.HasPrefix(p, "/var/") {
				t.Errorf("got %s in the package, want nothing under /var (systemd's StateDirectory makes it)", p)
			}
		}
	})

	info := dpkgDeb(t, "--info", deb)
	for _, want := range []string{
		"Package: vpnkeys", "Version: " + newUpstream + "-1", "Architecture: " + runtime.GOARCH,
		"Depends: adduser, init-system-helpers", "Section: net", "Priority: optional",
		"conffiles", "postinst", "prerm", "postrm", "md5sums",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info: no %q in\n%s", want, info)
		}
	}
	if got := dpkgDeb(t, "--info", deb, "conffiles"); strings.TrimSpace(got) != "/etc/vpnkeys/vpnkeys.toml" {
		t.Errorf("conffiles: got %q, want /etc/vpnkeys/vpnkeys.toml", got)
	}
}
