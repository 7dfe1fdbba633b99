package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"testing"
	"time"
)

// TestSelfCertRenewal: the --tls-self certificate is issued anew at two
// thirds of its life, and a failed renewal keeps the current one until it
// expires. The clock is a fake; nothing waits.
func TestSelfCertRenewal(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	issued, fail := 0, false
	issue := func() ([]byte, []byte, error) {
		if fail {
			return nil, nil, errors.New("CA locked")
		}
		issued++
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(issued)), NotBefore: now, NotAfter: now.Add(30 * 24 * time.Hour), DNSNames: []string{"vpn.example.com"}}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		kd, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), nil
	}
	sc, err := newSelfCert(issue, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		c, err := sc.GetCertificate(nil)
		if err != nil {
			t.Fatalf("GetCertificate: %v", err)
		}
		return c.Leaf.SerialNumber.Int64()
	}
	for _, tc := range []struct {
		name string
		at   time.Duration
		fail bool
		want int64
	}{
		{"ok/fresh", 0, false, 1},
		{"ok/before two thirds", 19 * 24 * time.Hour, false, 1},
		{"ok/at two thirds", 20 * 24 * time.Hour, false, 2},
		{"ok/renewal fails, current kept", 41 * 24 * time.Hour, true, 2},
		{"ok/renewal works again", 42 * 24 * time.Hour, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now, fail = t0.Add(tc.at), tc.fail
			if got := serial(); got != tc.want {
				t.Fatalf("serial: got %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("fail/expired and renewal fails", func(t *testing.T) {
		now, fail = t0.Add(80*24*time.Hour), true
		if _, err := sc.GetCertificate(nil); err == nil {
			t.Fatal("got a certificate past its expiry, want an error")
		}
	})
}

func TestSelfHosts(t *testing.T) {
	for _, tc := range []struct {
		name, listen, url string
		want              []string
	}{
		{"ok/public URL and listen IP", "192.0.2.10", "https://vpn.example.com:8443", []string{"vpn.example.com", "192.0.2.10"}},
		{"ok/same host once", "127.0.0.1", "https://127.0.0.1:8443", []string{"127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := selfHosts(tc.listen, tc.url); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	got := selfHosts("0.0.0.0", "https://vpn.example.com")
	if got[0] != "vpn.example.com" || !slices.Contains(got, "localhost") || !slices.Contains(got, "127.0.0.1") {
		t.Fatalf("wildcard listen: got %v", got)
	}
}
