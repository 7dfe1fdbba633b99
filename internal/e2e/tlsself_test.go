package e2e

import (
	"crypto/tls"
	"path/filepath"
	"testing"
)

// TestServeTLSSelfPublicHost: the --tls-self certificate carries the public
// URL's host, the name employees' links use, not only the listen address.
func TestServeTLSSelfPublicHost(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"VPNKEYS_CA_PASSPHRASE=tls self passphrase"}
	cli(t, env, "--data", data, "init")
	addr, pool := serveTLSSelf(t, env, data, "--public-url", "https://vpn.example.com")
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
