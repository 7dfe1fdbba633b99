package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestServeTLSSelfPublicHost: the --tls-self certificate carries the public
// URL's host, the name employees' links use, not only the listen address.
func TestServeTLSSelfPublicHost(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"VPNKEYS_CA_PASSPHRASE=tls self passphrase"}
	cli(t, env, "--data", data, "init")
	cmd := exec.Command(binary(t), "--data", data, "serve", "--listen", "127.0.0.1:0", "--tls-self", "--public-url", "https://vpn.example.com")
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
	for _, name := range []string{"vpn.example.com", "127.0.0.1"} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("TLS as %s: %v", name, err)
		}
		conn.Close()
	}
	if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "other.example.com"}); err == nil {
		conn.Close()
		t.Fatal("the certificate is valid for other.example.com too")
	}
}
