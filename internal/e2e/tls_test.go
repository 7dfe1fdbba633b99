package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestServeTLS: --tls-self serves HTTPS with a certificate from the CA that
// a client trusting the CA accepts; plain HTTP on a non-loopback address is
// refused unless --insecure-http.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"VPNKEYS_CA_PASSPHRASE=tls test passphrase"}
	cli(t, env, "--data", data, "init")

	refused := exec.Command(binary(t), "--data", data, "serve", "--listen", "0.0.0.0:0")
	refused.Env = append(os.Environ(), env...)
	out, err := refused.CombinedOutput()
	if code := refused.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "plain HTTP") {
		t.Fatalf("plain HTTP on 0.0.0.0: exit %d %v\n%s", code, err, out)
	}

	addr, pool := serveTLSSelf(t, env, data)
	m := "https://" + addr
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(m + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the CA trusted: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("healthz over TLS: %d %q", resp.StatusCode, body)
	}
	if _, err := http.Get(m + "/healthz"); err == nil {
		t.Fatal("a client that does not trust the CA accepted the certificate")
	}
}

// serveTLSSelf starts `vpnkeys serve --tls-self` on loopback with args and
// returns its address and a pool that trusts the company CA, as a client
// told to trust it would.
func serveTLSSelf(t *testing.T, env []string, data string, args ...string) (string, *x509.CertPool) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--data", data, "serve", "--listen", "127.0.0.1:0", "--tls-self"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("serve printed nothing")
	}
	addr := regexp.MustCompile(`127\.0\.0\.1:\d+`).FindString(sc.Text())
	if addr == "" {
		t.Fatalf("serve: %q", sc.Text())
	}
	db, err := store.Open(context.Background(), filepath.Join(data, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := db.Q().GetCA(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(ca.CertPEM))
	return addr, pool
}
