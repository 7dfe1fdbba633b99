package easyrsa

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa/easyrsatest"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

const sampleIndex = "V\t290225015646Z\t\t16FFD967BEC2173CD64722E1CF18535A\tunknown\t/CN=server\n" +
	"R\t290225015646Z\t261123015646Z,keyCompromise\t63BE6180032951FD3D4C09FC0568B522\tunknown\t/CN=bob\n" +
	"E\t200101000000Z\t\t0A\tunknown\t/C=FR/CN=old\n"

func TestParseIndex(t *testing.T) {
	es, err := ParseIndex(strings.NewReader(sampleIndex))
	if err != nil || len(es) != 3 {
		t.Fatalf("got %d entries, %v", len(es), err)
	}
	if e := es[1]; e.Status != 'R' || e.Reason != "keyCompromise" || e.CN != "bob" || e.RevokedAt.Year() != 2026 || e.Line != 2 {
		t.Fatalf("row 2: got %+v", e)
	}
	if es[2].CN != "old" || es[2].Status != 'E' {
		t.Fatalf("row 3: got %+v", es[2])
	}
	if got := string(FormatIndex(es)); got != sampleIndex {
		t.Fatalf("FormatIndex: got\n%s\nwant\n%s", got, sampleIndex)
	}
	for name, bad := range map[string]string{
		"fail/fields":  "V\t290225015646Z\t16FF\tunknown\t/CN=x\n",
		"fail/status":  "X\t290225015646Z\t\t16FF\tunknown\t/CN=x\n",
		"fail/date":    "V\t2902\t\t16FF\tunknown\t/CN=x\n",
		"fail/serial":  "V\t290225015646Z\t\t16FG\tunknown\t/CN=x\n",
		"fail/no cn":   "V\t290225015646Z\t\t16FF\tunknown\t/O=x\n",
		"fail/revdate": "V\t290225015646Z\t261123015646Z\t16FF\tunknown\t/CN=x\n",
	} {
		if _, err := ParseIndex(strings.NewReader("V\t290225015646Z\t\t01\tunknown\t/CN=ok\n" + bad)); err == nil || !strings.HasPrefix(err.Error(), "index.txt:2:") {
			t.Errorf("%s: got %v, want an error at index.txt:2", name, err)
		}
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(sampleIndex))
	f.Add([]byte("V\t20500101000000Z\t\t0A\tunknown\t/CN=a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := ParseIndex(bytes.NewReader(FormatIndex(es)))
		if err != nil || len(again) != len(es) {
			t.Fatalf("round trip: %v (%d vs %d)", err, len(again), len(es))
		}
		for i := range es {
			a, b := es[i], again[i]
			if a.Status != b.Status || a.Serial != b.Serial || a.CN != b.CN || !a.Expiry.Equal(b.Expiry) || a.Reason != b.Reason {
				t.Fatalf("row %d: %+v became %+v", i, a, b)
			}
		}
	})
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct{ algo, pass string }{{"p256", ""}, {"rsa", "s3cret pass"}, {"p384", "другой"}} {
		t.Run(tc.algo, func(t *testing.T) {
			e := easyrsatest.New(t, tc.algo, tc.pass)
			e.Run(t, "build-server-full", "server", "nopass")
			for _, u := range []string{"alice", "bob", "carol"} {
				e.Run(t, "build-client-full", u, "nopass")
			}
			e.Run(t, "revoke", "bob", "keyCompromise")
			e.Run(t, "revoke", "carol", "superseded")
			e.Run(t, "build-client-full", "carol", "nopass") // renewed by hand
			e.Run(t, "gen-crl")
			calls := 0
			p, err := Load(e.Dir, func() (pki.Passphrase, error) { calls++; return pki.Passphrase(tc.pass), nil })
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.pass != ""]; calls != want || p.Encrypted != (tc.pass != "") {
				t.Fatalf("passphrase asked %d times (encrypted %v), want %d", calls, p.Encrypted, want)
			}
			got := map[string]string{}
			for _, c := range p.Certs {
				got[c.CN] += string(c.Status)
				// Every key was built nopass: current ones sit in private/,
				// revoked ones in revoked/private_by_serial/.
				if c.KeyPEM == nil {
					t.Errorf("%s %c: no key found", c.CN, c.Status)
				}
				if c.Server != (c.CN == "server") {
					t.Errorf("%s: Server %v", c.CN, c.Server)
				}
			}
			want := map[string]string{"server": "V", "alice": "V", "bob": "R", "carol": "RV"}
			for cn, s := range want {
				if got[cn] != s {
					t.Errorf("%s: statuses %q, want %q", cn, got[cn], s)
				}
			}
			if p.CRL == nil || len(p.CRL.RevokedCertificateEntries) != 2 {
				t.Fatalf("CRL: got %v", p.CRL)
			}
			if tc.pass != "" {
				if _, err := Load(e.Dir, func() (pki.Passphrase, error) { return pki.Passphrase("wrong"), nil }); !errors.Is(err, pki.ErrWrongPassphrase) {
					t.Fatalf("wrong passphrase: got %v", err)
				}
			}
		})
	}
}

// TestDamaged: each damage is reported with its file and line.
func TestDamaged(t *testing.T) {
	e := easyrsatest.New(t, "p256", "")
	for _, u := range []string{"alice", "bob", "carol"} {
		e.Run(t, "build-client-full", u, "nopass")
	}
	other := easyrsatest.New(t, "p256", "")
	other.Run(t, "build-client-full", "mallory", "nopass")
	pristine := e.Dir
	index, _ := os.ReadFile(filepath.Join(pristine, "index.txt"))
	lines := strings.SplitAfter(string(index), "\n")
	tests := []struct {
		name   string
		damage func(dir string)
		want   string
	}{
		{"truncated index", func(d string) {
			os.WriteFile(filepath.Join(d, "index.txt"), []byte(lines[0]+lines[1][:20]), 0o644)
		}, "index.txt:2:"},
		{"missing certificate", func(d string) {
			files, _ := filepath.Glob(filepath.Join(d, "certs_by_serial", "*"))
			for _, f := range files {
				os.Remove(f)
			}
			os.Remove(filepath.Join(d, "issued", "bob.crt"))
		}, "index.txt:2: no certificate file"},
		{"wrong key", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, "private", "alice.key"))
			os.WriteFile(filepath.Join(d, "private", "bob.key"), b, 0o600)
		}, "private/bob.key: does not match"},
		{"duplicate serial", func(d string) {
			os.WriteFile(filepath.Join(d, "index.txt"), []byte(string(index)+lines[0]), 0o644)
		}, "index.txt:4: serial"},
		{"foreign certificate", func(d string) {
			b, _ := os.ReadFile(filepath.Join(other.Dir, "issued", "mallory.crt"))
			c, _ := pki.ParseCert(b)
			os.WriteFile(filepath.Join(d, "issued", "mallory.crt"), b, 0o644)
			row := "V\t290225015646Z\t\t" + pki.SerialHex(c.SerialNumber) + "\tunknown\t/CN=mallory\n"
			os.WriteFile(filepath.Join(d, "index.txt"), []byte(string(index)+row), 0o644)
		}, "issued/mallory.crt: not signed by ca.crt (index.txt:4"},
	}
	for _, tc := range tests {
		t.Run("fail/"+tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "pki")
			if out, err := exec.Command("cp", "-a", pristine, d).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			tc.damage(d)
			_, err := Load(d, nil)
			var probs ProblemsError
			if !errors.As(err, &probs) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a problem %q", err, tc.want)
			}
			if k, c := fault.KindOf(err), fault.CodeOf(err); k != fault.Invalid || c != "invalid" {
				t.Fatalf("got kind %v code %q, want invalid/invalid", k, c)
			}
		})
	}
}
