package debpkg

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestInsideNamespace is the install scenario; TestInstall runs it in a
// fresh mount and network namespace (it does nothing when run directly).
func TestInsideNamespace(t *testing.T) {
	if os.Getenv(insideEnv) != "1" {
		t.Skip("TestInstall runs this inside its own namespace")
	}
	sandbox(t)
	oldDeb, newDeb := os.Getenv("VPNKEYS_OLD_DEB"), os.Getenv("VPNKEYS_NEW_DEB")

	out := sh(t, nil, "dpkg", "--path-include=/usr/share/*", "-i", oldDeb)
	t.Logf("dpkg -i %s:\n%s", filepath.Base(oldDeb), out)
	t.Run("ok/installed", func(t *testing.T) { installed(t, oldUpstream) })
	t.Run("ok/units-verify", verifyUnits)

	// First steps as README.Debian gives them.
	pass := "namespace test passphrase"
	if err := os.WriteFile("/etc/vpnkeys/ca-passphrase", []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asService(t, "--passphrase-file", "-", "init")
	asService(t, "server", "add", "dc1", "--remote", "vpn1.example.com:1194")
	asService(t, "--passphrase-file", "-", "add", "alice")
	t.Run("ok/serve-as-the-unit", func(t *testing.T) { serveAsUnit(t, pass) })
	t.Run("ok/cli-finds-the-service-config", func(t *testing.T) {
		if got := asService(t, "list"); !strings.Contains(got, "alice") {
			t.Errorf("vpnkeys list (no flags, cwd /): got %q, want alice", got)
		}
	})

	conf := "/etc/vpnkeys/vpnkeys.toml"
	b, _ := os.ReadFile(conf)
	edited := strings.Replace(string(b), `company = "Example Ltd"`, `company = "Edited Ltd"`, 1)
	if edited == string(b) {
		t.Fatalf("the conffile has no company line to edit:\n%s", b)
	}
	os.WriteFile(conf, []byte(edited), 0o644)

	out = sh(t, nil, "dpkg", "--path-include=/usr/share/*", "-i", newDeb)
	t.Logf("dpkg -i %s:\n%s", filepath.Base(newDeb), out)
	t.Run("ok/upgrade-keeps-data-and-conffile", func(t *testing.T) {
		installed(t, newUpstream)
		if b, _ := os.ReadFile(conf); string(b) != edited {
			t.Errorf("conffile after upgrade: got\n%s\nwant the edited one", b)
		}
		if got := asService(t, "list"); !strings.Contains(got, "alice") {
			t.Errorf("list after upgrade: got %q, want alice", got)
		}
		serveAsUnit(t, pass)
	})

	sh(t, nil, "dpkg", "--remove", "vpnkeys")
	t.Run("ok/remove-keeps-data", func(t *testing.T) {
		for _, p := range []string{"/var/lib/vpnkeys/vpnkeys.db", conf} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("after dpkg --remove: %v, want %s kept", err, p)
			}
		}
		if _, err := os.Stat("/usr/bin/vpnkeys"); !os.IsNotExist(err) {
			t.Errorf("after dpkg --remove: /usr/bin/vpnkeys: %v, want it gone", err)
		}
	})
	out = sh(t, nil, "dpkg", "--purge", "vpnkeys")
	t.Run("ok/purge-deletes-data-after-saying-so", func(t *testing.T) {
		if !strings.Contains(out, "deleting /var/lib/vpnkeys") {
			t.Errorf("dpkg --purge said %q, want it to name /var/lib/vpnkeys", out)
		}
		for _, p := range []string{"/var/lib/vpnkeys", "/etc/vpnkeys"} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("after purge: %s: %v, want it gone", p, err)
			}
		}
	})
}

// verifyUnits runs systemd-analyze verify on both installed units, against
// the installed binary and man pages.
func verifyUnits(t *testing.T) {
	out, err := exec.Command("systemd-analyze", "verify", "vpnkeys.service", "vpnkeys-agent.service").CombinedOutput()
	if err != nil || strings.Contains(string(out), "vpnkeys") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// sandbox puts tmpfs-backed overlays on /etc, /usr and /var, an empty
// /run (so the maintainer scripts see no running systemd) and brings up
// loopback in the new network namespace.
func sandbox(t *testing.T) {
	scratch := os.Getenv("VPNKEYS_SCRATCH")
	if err := syscall.Mount("tmpfs", scratch, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("mounting tmpfs: %v", err)
	}
	for _, d := range []string{"etc", "usr", "var"} {
		up, work := filepath.Join(scratch, d, "up"), filepath.Join(scratch, d, "work")
		os.MkdirAll(up, 0o755)
		os.MkdirAll(work, 0o755)
		opts := "lowerdir=/" + d + ",upperdir=" + up + ",workdir=" + work
		if err := syscall.Mount("overlay", "/"+d, "overlay", 0, opts); err != nil {
			t.Fatalf("overlay on /%s: %v", d, err)
		}
	}
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("tmpfs on /run: %v", err)
	}
	sh(t, nil, "ip", "link", "set", "lo", "up")
}

// sh runs a command, fails the test when it fails, and returns its output.
func sh(t *testing.T, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = "/"
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// asService runs vpnkeys as the vpnkeys user from /, with no --config: it
// must find /etc/vpnkeys/vpnkeys.toml. The CA passphrase goes in on stdin
// from the root-only file, as README.Debian shows.
func asService(t *testing.T, args ...string) string {
	t.Helper()
	f, err := os.Open("/etc/vpnkeys/ca-passphrase")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sh(t, f, "runuser", append([]string{"-u", "vpnkeys", "--", "/usr/bin/vpnkeys"}, args...)...)
}

func installed(t *testing.T, upstream string) {
	if got := sh(t, nil, "/usr/bin/vpnkeys", "--version"); !strings.HasPrefix(got, "vpnkeys "+upstream+" (commit ") || !strings.Contains(got, "go1.") {
		t.Errorf("vpnkeys --version: got %q, want version %s, a commit and the Go version", got, upstream)
	}
	if got := sh(t, nil, "getent", "passwd", "vpnkeys"); !strings.Contains(got, ":/var/lib/vpnkeys:") {
		t.Errorf("getent passwd vpnkeys: got %q, want home /var/lib/vpnkeys", got)
	}
	fi, err := os.Stat("/var/lib/vpnkeys")
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/vpnkeys: %v %v, want mode 0700", err, fi)
	}
	if got := sh(t, nil, "dpkg-query", "-W", "-f", "${Status} ${Version}", "vpnkeys"); got != "install ok installed "+upstream+"-1" {
		t.Errorf("dpkg-query: got %q", got)
	}
}

// unit reads the [Service] settings of the installed unit.
func unit(t *testing.T) map[string][]string {
	b, err := os.ReadFile("/lib/systemd/system/vpnkeys.service")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// serveAsUnit starts ExecStart= as systemd would: the unit's user and
// group, no capabilities, no new privileges, umask and working directory
// from the unit, the environment systemd gives (no VPNKEYS_* at all), and
// the passphrase credential in a 0700 credentials directory. Then it asks
// /healthz and stops the service with SIGTERM.
func serveAsUnit(t *testing.T, pass string) {
	u := unit(t)
	user, group := u["User"][0], u["Group"][0]
	cred, src, _ := strings.Cut(u["LoadCredential"][0], ":")
	if cred != "ca-passphrase" || src != "/etc/vpnkeys/ca-passphrase" {
		t.Fatalf("LoadCredential=%s, want ca-passphrase:/etc/vpnkeys/ca-passphrase", u["LoadCredential"][0])
	}
	// Where systemd puts it (/run is the sandbox's own tmpfs).
	credDir := "/run/credentials/vpnkeys.service"
	os.RemoveAll(credDir)
	os.Mkdir(filepath.Dir(credDir), 0o755)
	os.Mkdir(credDir, 0o700)
	b, _ := os.ReadFile(src)
	os.WriteFile(filepath.Join(credDir, cred), b, 0o400)
	sh(t, nil, "chown", "-R", user+":"+group, credDir)

	execStart := strings.Fields(u["ExecStart"][0])
	args := append([]string{"--reuid=" + user, "--regid=" + group, "--init-groups", "--no-new-privs",
		"--bounding-set=-all", "--inh-caps=-all", "--", "env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"HOME=/var/lib/vpnkeys", "USER=" + user, "LOGNAME=" + user, "SHELL=/usr/sbin/nologin",
		"CREDENTIALS_DIRECTORY=" + credDir, "STATE_DIRECTORY=/var/lib/vpnkeys",
		"CONFIGURATION_DIRECTORY=/etc/vpnkeys"}, execStart...)
	cmd := exec.Command("setpriv", args...)
	cmd.Dir = u["WorkingDirectory"][0]
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder // read only after Wait
	cmd.Stderr = &stderr
	old := syscall.Umask(0o077) // UMask=0077
	err := cmd.Start()
	syscall.Umask(old)
	if err != nil {
		t.Fatalf("starting %v: %v", execStart, err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
		}
		if strings.Contains(stderr.String(), pass) {
			t.Errorf("serve logged the passphrase")
		}
	}()
	// Wait for the line serve prints once it listens; EOF means it died.
	sc := bufio.NewScanner(stdout)
	addr := ""
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "vpnkeys serving on ") {
			addr = strings.Fields(line)[3]
			break
		}
	}
	if addr == "" {
		t.Fatalf("serve did not start") // the deferred Wait prints its stderr
	}
	go io.Copy(io.Discard, stdout)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // tls.self: the CA's own certificate
	resp, err := client.Get(addr + "/healthz")
	if err != nil {
		t.Fatalf("GET %s/healthz: %v", addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /healthz: got %d %s, want 200", resp.StatusCode, body)
	}
	t.Logf("serve as %s: %s/healthz -> %d %s", user, addr, resp.StatusCode, strings.TrimSpace(string(body)))
}
