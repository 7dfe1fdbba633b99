package e2e

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// instance is one `vpnkeys serve` process.
type instance struct {
	base string
	cmd  *exec.Cmd
}

func startInstance(t testing.TB, env []string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary(t), append(args, "serve", "--listen", "127.0.0.1:0")...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("serve %v log:\n%s", args, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("serve printed nothing:\n%s", stderr.String())
	}
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`).FindStringSubmatch(sc.Text())
	if m == nil {
		t.Fatalf("serve: %q", sc.Text())
	}
	go io.Copy(io.Discard, stdout)
	return &instance{base: "http://" + m[1], cmd: cmd}
}

// TestTwoInstancesOnPostgres hammers two `vpnkeys serve` processes on one
// PostgreSQL with concurrent creates, renewals, revocations and link
// redemptions of overlapping users, then checks every invariant from the
// database and from the CRL each instance serves.
func TestTwoInstancesOnPostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("two instances\n"), 0o600)
	env := []string{"VPNKEYS_PASSPHRASE_FILE=" + pass, "VPNKEYS_DB=" + dsn}
	cli(t, env, "--data", filepath.Join(dir, "d0"), "init")
	cli(t, env, "--data", filepath.Join(dir, "d0"), "server", "add", "dc1", "--remote", "vpn.example.com:1194")
	token := strings.TrimSpace(cli(t, env, "--data", filepath.Join(dir, "d0"), "token", "create", "hammer"))
	insts := []*instance{
		startInstance(t, env, "--data", filepath.Join(dir, "d1")),
		startInstance(t, env, "--data", filepath.Join(dir, "d2")),
	}

	client := &http.Client{Timeout: 30 * time.Second}
	call := func(in *instance, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, in.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	var creates, renews, revokes, redeemed, linksMade atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 30 {
				in := insts[r.IntN(2)]
				u := users[r.IntN(len(users))]
				var code int
				var body []byte
				switch op := r.IntN(10); {
				case op < 4:
					code, body = call(in, "POST", "/api/v1/users", `{"name":"`+u+`"}`)
					if code == 201 {
						creates.Add(1)
					}
				case op < 6:
					code, body = call(in, "POST", "/api/v1/users/"+u+"/renew", `{}`)
					if code == 200 {
						renews.Add(1)
					}
				case op < 8:
					code, body = call(in, "POST", "/api/v1/users/"+u+"/revoke", `{"reason":"superseded"}`)
					// A user revoked before answers 200 too, without a
					// new revocation (the CRL is published again).
					if code == 200 && !strings.Contains(string(body), `"already_revoked": true`) {
						revokes.Add(1)
					}
				default:
					code, body = call(in, "POST", "/api/v1/users/"+u+"/links", `{}`)
					if code == 201 {
						linksMade.Add(1)
						var l struct{ Link string }
						json.Unmarshal(body, &l)
						tok := l.Link[strings.LastIndex(l.Link, "/l/")+3:]
						// Both instances race to redeem it.
						var inner sync.WaitGroup
						var wins atomic.Int32
						for _, other := range insts {
							inner.Add(1)
							go func() {
								defer inner.Done()
								resp, err := client.PostForm(other.base+"/l/"+tok, url.Values{"format": {"ovpn"}})
								if err == nil {
									io.Copy(io.Discard, resp.Body)
									resp.Body.Close()
									if resp.StatusCode == 200 {
										redeemed.Add(1)
										wins.Add(1)
									}
								}
							}()
						}
						inner.Wait()
						if wins.Load() > 1 {
							t.Errorf("link %s opened %d times", l.Link, wins.Load())
						}
					}
				}
				if code >= 500 || code == 0 {
					t.Errorf("%s: %d %s", in.base, code, body)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("creates %d, renewals %d, revocations %d, links %d, redeemed %d", creates.Load(), renews.Load(), revokes.Load(), linksMade.Load(), redeemed.Load())

	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := func(query string) int {
		var n int
		if err := db.SQL().QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := q(`SELECT COUNT(*) FROM (SELECT subject FROM certificates WHERE state = 'active' GROUP BY kind, subject HAVING COUNT(*) > 1) d`); n != 0 {
		t.Errorf("%d subjects with two active certificates", n)
	}
	if n := q(`SELECT COUNT(*) FROM users u JOIN certificates c ON c.serial = u.current_serial WHERE c.subject <> u.name`); n != 0 {
		t.Errorf("%d users point at another user's certificate", n)
	}
	if got, want := q(`SELECT COUNT(*) FROM links WHERE used_at IS NOT NULL`), int(redeemed.Load()); got != want {
		t.Errorf("links used: %d in the database, %d downloads served", got, want)
	}
	// A link whose user was revoked before the click is refused and not
	// spent; every other link opened exactly once.
	if redeemed.Load() == 0 || redeemed.Load() > linksMade.Load() {
		t.Errorf("%d links made, %d downloads", linksMade.Load(), redeemed.Load())
	}
	if got, want := q(`SELECT COUNT(*) FROM audit WHERE action = 'user.revoke'`), int(revokes.Load()); got != want {
		t.Errorf("audit: %d revocations recorded, %d succeeded", got, want)
	}
	if got, want := q(`SELECT COUNT(*) FROM audit WHERE action = 'link.redeem'`), int(redeemed.Load()); got != want {
		t.Errorf("audit: %d redemptions recorded, %d served", got, want)
	}
	issued := q(`SELECT COUNT(*) FROM certificates WHERE kind = 'client'`)
	if got := q(`SELECT COUNT(*) FROM audit WHERE action = 'user.issue'`); got != issued {
		t.Errorf("audit: %d issuances recorded, %d client certificates exist", got, issued)
	}
	crlNumber := q(`SELECT number FROM crl`)
	rows, _ := db.SQL().Query(`SELECT serial FROM certificates WHERE state = 'revoked'`)
	revoked := map[string]bool{}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		revoked[s] = true
	}
	rows.Close()
	for _, in := range insts {
		resp, err := client.Get(in.base + "/crl.pem")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		blk, _ := pem.Decode(b)
		crl, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if int(crl.Number.Int64()) != crlNumber {
			t.Errorf("%s serves CRL #%d, newest is #%d", in.base, crl.Number, crlNumber)
		}
		listed := map[string]bool{}
		for _, e := range crl.RevokedCertificateEntries {
			listed[pki.SerialHex(e.SerialNumber)] = true
		}
		for s := range revoked {
			if !listed[s] {
				t.Errorf("%s: revoked %s missing from the CRL", in.base, s)
			}
		}
		if len(listed) != len(revoked) {
			t.Errorf("%s: CRL lists %d, database has %d revoked", in.base, len(listed), len(revoked))
		}
	}
	if revokes.Load() == 0 || creates.Load() == 0 {
		t.Fatalf("the hammer did too little: %d creates, %d revocations", creates.Load(), revokes.Load())
	}
}
