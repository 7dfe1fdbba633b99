package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

type env struct {
	a     *authority.Authority
	db    *store.DB
	srv   *httptest.Server
	token string
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, mailer authority.Mailer) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "vpnkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{db: db, logs: &syncBuffer{}}
	m := NewMetrics(nil)
	var srvURL string
	e.a = authority.New(db, authority.Options{DataDir: dir, Contact: "it@example.com", Observe: m.Observe,
		PublicURL: "http://placeholder"})
	if err := e.a.Init(ctx, authority.InitRequest{Algo: pki.P256, NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	m.Watch(e.a)
	if _, err := e.a.AddServer(ctx, authority.ServerRequest{Name: "dc1", Remote: "127.0.0.1:11942"}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(New(Options{Authority: e.a, Mailer: mailer, Metrics: m, Logger: slogTo(e.logs)}).Handler())
	t.Cleanup(e.srv.Close)
	srvURL = e.srv.URL
	// Links must point at this test server.
	e.a = authority.New(db, authority.Options{DataDir: dir, Contact: "it@example.com", Observe: m.Observe, PublicURL: srvURL})
	e.a.Unlock(ctx, nil)
	e.srv.Config.Handler = New(Options{Authority: e.a, Mailer: mailer, Metrics: m, Logger: slogTo(e.logs)}).Handler()
	if e.token, err = e.a.CreateToken(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) do(t testing.TB, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// state is everything a failed request must leave unchanged.
func (e *env) state(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{`SELECT COUNT(*) FROM users`, `SELECT COUNT(*) FROM certificates`, `SELECT COUNT(*) FROM links`,
		`SELECT number FROM crl`, `SELECT COUNT(*) FROM certificates WHERE state = 'revoked'`} {
		var n int
		e.db.SQL().QueryRow(q).Scan(&n)
		b.WriteString(strings.Fields(q)[1] + "=" + strconv.Itoa(n) + " ")
	}
	return b.String()
}

// TestAuth: every API route refuses no token, a bad token and a revoked
// token with 401, and changes nothing.
func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	revoked, _ := e.a.CreateToken(ctx, "old")
	e.a.RevokeToken(ctx, "old")
	before := e.state(t)
	s := &Server{}
	for _, rt := range s.routes() {
		path := strings.NewReplacer("{user}", "alice", "{server}", "dc1").Replace(rt.path)
		for name, tok := range map[string]string{"none": "", "bad": "vpk_nope", "revoked": revoked, "garbage": "x y z"} {
			resp, body := e.do(t, rt.method, path, tok, `{"name":"alice"}`)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s token: got %d, want 401", rt.method, path, name, resp.StatusCode)
			}
			var ae apiError
			if json.Unmarshal(body, &ae) != nil || ae.Error.Code != "unauthorized" {
				t.Errorf("%s %s: body %s", rt.method, path, body)
			}
		}
	}
	if after := e.state(t); after != before {
		t.Fatalf("state changed: %s -> %s", before, after)
	}
}

// TestAPI walks every route with a good token, and its refusals.
func TestAPI(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token
	resp, body := e.do(t, "POST", "/api/v1/users", tok, `{"name":"alice","email":"alice@example.com","os":"macos","lang":"de"}`)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"status": "active"`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, "POST", "/api/v1/users", tok, `{"name":"alice"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("create again: %d, want 200 (kept)", resp.StatusCode)
	}
	fails := []struct {
		name, method, path, body string
		want                     int
	}{
		{"bad json", "POST", "/api/v1/users", `{"name":`, 400},
		{"unknown field", "POST", "/api/v1/users", `{"name":"bob","admin":true}`, 400},
		{"bad name", "POST", "/api/v1/users", `{"name":"../etc"}`, 400},
		{"bad os", "POST", "/api/v1/users", `{"name":"bob","os":"beos"}`, 400},
		{"trailing", "POST", "/api/v1/users", `{"name":"bob"} {}`, 400},
		{"unknown user", "GET", "/api/v1/users/bob", "", 404},
		{"revoke unknown", "POST", "/api/v1/users/bob/revoke", `{}`, 404},
		{"bad reason", "POST", "/api/v1/users/alice/revoke", `{"reason":"boredom"}`, 400},
		{"renew unknown", "POST", "/api/v1/users/bob/renew", `{}`, 404},
		{"link unknown", "POST", "/api/v1/users/bob/links", `{}`, 404},
		{"send no mail", "POST", "/api/v1/users/alice/send", `{}`, 409},
		{"send bad to", "POST", "/api/v1/users/alice/send", `{"to":"boss"}`, 400},
		{"unknown server", "GET", "/api/v1/servers/dc9/files", "", 404},
		{"bad limit", "GET", "/api/v1/users?limit=-1", "", 400},
		{"bad status", "GET", "/api/v1/users?status=zombie", "", 400},
	}
	before := e.state(t)
	for _, f := range fails {
		resp, body := e.do(t, f.method, f.path, tok, f.body)
		var ae apiError
		if resp.StatusCode != f.want || json.Unmarshal(body, &ae) != nil || ae.Error.Message == "" {
			t.Errorf("fail/%s: got %d %s, want %d with a message", f.name, resp.StatusCode, body, f.want)
		}
	}
	if after := e.state(t); after != before {
		t.Fatalf("failed requests changed state: %s -> %s", before, after)
	}

	resp, body = e.do(t, "GET", "/api/v1/users?status=active&search=ALICE", tok, "")
	var ul userList
	if json.Unmarshal(body, &ul); resp.StatusCode != 200 || ul.Total != 1 || ul.Users[0].Name != "alice" {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/api/v1/users/alice/links", tok, `{"ttl_hours":1}`)
	if resp.StatusCode != 201 || !strings.Contains(string(body), e.srv.URL+"/l/l_") {
		t.Fatalf("link: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "POST", "/api/v1/users/alice/renew", tok, ""); resp.StatusCode != 200 || !strings.Contains(string(body), "superseded") {
		t.Fatalf("renew: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "POST", "/api/v1/users/alice/revoke", tok, `{"reason":"key-compromise"}`); resp.StatusCode != 200 || !strings.Contains(string(body), "crl_number") {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	// Revoking again publishes the CRL again; it is not an error.
	if resp, body := e.do(t, "POST", "/api/v1/users/alice/revoke", tok, `{}`); resp.StatusCode != 200 || !strings.Contains(string(body), `"already_revoked": true`) {
		t.Fatalf("revoke twice: %d %s, want 200 already_revoked", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "GET", "/api/v1/servers", tok, ""); resp.StatusCode != 200 || !strings.Contains(string(body), "127.0.0.1:11942/udp") {
		t.Fatalf("servers: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "GET", "/api/v1/servers/dc1/files", tok, ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" || len(body) < 500 {
		t.Fatalf("server files: %d %d bytes", resp.StatusCode, len(body))
	}
	if resp, body := e.do(t, "GET", "/api/v1/crl", tok, ""); resp.StatusCode != 200 || !strings.Contains(string(body), `"revoked": 2`) {
		t.Fatalf("crl: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/api/v1/audit?target=alice&limit=50", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"actor": "token:test"`) || !strings.Contains(string(body), `"action": "user.revoke"`) {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "GET", "/crl.pem", "", ""); resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("-----BEGIN X509 CRL")) {
		t.Fatalf("crl.pem: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	_, body = e.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{`vpnkeys_users{status="revoked"} 1`, `vpnkeys_operations_total{op="issue",result="ok"} 2`,
		`vpnkeys_operations_total{op="revoke",result="ok"} 2`, "vpnkeys_certificates_expiring_30d 0", "vpnkeys_operation_duration_seconds_bucket"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(e.logs.String(), e.token) {
		t.Fatal("the API token reached the log")
	}
}

// TestOpenAPI: the document lists exactly the routes the server handles.
func TestOpenAPI(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var documented, served []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, rt := range (&Server{}).routes() {
		served = append(served, rt.method+" "+rt.path)
	}
	served = append(served, "GET /api/v1/openapi.json")
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Fatalf("OpenAPI paths:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	e := newEnv(t, nil)
	if resp, body := e.do(t, "GET", "/api/v1/openapi.json", "", ""); resp.StatusCode != 200 || !bytes.Equal(body, openAPI) {
		t.Fatalf("served document: %d", resp.StatusCode)
	}
}

// TestLinkPages: the page, one download, then the "already used" page; 100
// concurrent clicks on another link: exactly one download.
func TestLinkPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "wendy", OS: "windows", Lang: "fr"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := e.a.CreateLink(ctx, "wendy", 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, "GET", "/l/"+l.Token, "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Télécharger wendy.ovpn") || !strings.Contains(string(body), `lang="fr"`) || !strings.Contains(string(body), "OpenVPN GUI") ||
		!strings.Contains(string(body), `value="zip"`) || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("page: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	form := url.Values{"format": {"zip"}}
	r1, err := http.PostForm(l.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	zipBytes, _ := io.ReadAll(r1.Body)
	r1.Body.Close()
	if r1.StatusCode != 200 || r1.Header.Get("Content-Type") != "application/zip" || !bytes.HasPrefix(zipBytes, []byte("PK")) {
		t.Fatalf("download: %d %s", r1.StatusCode, r1.Header.Get("Content-Type"))
	}
	r2, _ := http.PostForm(l.URL, form)
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != http.StatusGone || !strings.Contains(string(b2), "Ce lien a déjà servi") || !strings.Contains(string(b2), "it@example.com") {
		t.Fatalf("second click: %d\n%s", r2.StatusCode, b2)
	}
	if resp, body := e.do(t, "GET", "/l/l_unknown", "", ""); resp.StatusCode != 404 || !strings.Contains(string(body), "does not exist") {
		t.Fatalf("unknown link: %d", resp.StatusCode)
	}

	l2, _ := e.a.CreateLink(ctx, "wendy", 0)
	var ok, gone atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(l2.URL, url.Values{"format": {"ovpn"}})
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200 && bytes.Contains(b, []byte("<key>")):
				ok.Add(1)
			case resp.StatusCode == http.StatusGone:
				gone.Add(1)
			default:
				t.Errorf("click: %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || gone.Load() != 99 {
		t.Fatalf("100 concurrent clicks: %d downloads, %d 'used'; want 1 and 99", ok.Load(), gone.Load())
	}
	if strings.Contains(e.logs.String(), l.Token) || strings.Contains(e.logs.String(), l2.Token) {
		t.Fatal("a link token reached the log")
	}
}
