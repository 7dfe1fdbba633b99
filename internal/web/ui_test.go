package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

const adminPass = "correct horse battery"

// browser is an http.Client with cookies that does not follow redirects.
func browser(t testing.TB) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func signIn(t testing.TB, e *env, c *http.Client) {
	t.Helper()
	resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {adminPass}, "next": {"/ui/users"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/users" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func uiEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t, nil)
	if err := e.a.SetAdmin(context.Background(), "ann", adminPass); err != nil {
		t.Fatal(err)
	}
	return e
}

func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t testing.TB, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestUIRefusals(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	// Not signed in: pages redirect to sign-in, actions are refused.
	for _, p := range []string{"/ui/users", "/ui/users/new", "/ui/import", "/ui/servers", "/ui/crl", "/ui/audit", "/ui/users/alice"} {
		resp, _ := get(t, c, e.srv.URL+p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s signed out: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	before := e.state(t)
	for _, p := range []string{"/ui/users", "/ui/users/alice/revoke", "/ui/users/alice/renew", "/ui/import", "/ui/servers", "/ui/servers/dc1/remove", "/ui/users/alice/remove"} {
		if resp, _ := post(t, c, e.srv.URL+p, url.Values{"name": {"mallory"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s signed out: got %d, want 401", p, resp.StatusCode)
		}
	}
	// Wrong password: refused, logged, audited; then rate-limited.
	resp, body := post(t, c, e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {"wrong password!"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong admin name or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "login failed") {
		t.Fatal("failed sign-in not logged")
	}
	if strings.Contains(e.logs.String(), "wrong password!") {
		t.Fatal("the tried password reached the log")
	}
	codes := []int{}
	for range 6 {
		resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {"still wrong"}})
		codes = append(codes, resp.StatusCode)
	}
	if codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("repeated failures: got %v, want 429 at the end", codes)
	}
	// Even the right password waits now.
	if resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {adminPass}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password while limited: %d", resp.StatusCode)
	}
	evs, _ := e.a.Audit(context.Background(), authority.AuditFilter{Action: "admin.login_failed"})
	if len(evs) < 2 {
		t.Fatalf("failed sign-ins audited: %d", len(evs))
	}
	if after := e.state(t); after != before {
		t.Fatalf("refusals changed state: %s -> %s", before, after)
	}
}

func TestUISession(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	u, _ := url.Parse(e.srv.URL)
	var cookie *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	// Cookie flags, from the raw Set-Cookie.
	resp, _ := post(t, browser(t), e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {adminPass}})
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("Set-Cookie: %s", sc)
	}
	resp, body := get(t, c, e.srv.URL+"/ui/users")
	if resp.StatusCode != 200 || !strings.Contains(body, "Sign out") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("users page: %d", resp.StatusCode)
	}
	// Cross-origin POST with a valid session: refused before the handler.
	req, _ := http.NewRequest("POST", e.srv.URL+"/ui/users", strings.NewReader("name=mallory"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: got %d, want 403", resp.StatusCode)
	}
	if _, err := e.a.Show(context.Background(), "mallory"); err == nil {
		t.Fatal("the cross-origin POST created a user")
	}
	// Expired session: the clock moves past the idle limit.
	late := authority.New(e.db, authority.Options{Now: func() time.Time { return time.Now().Add(authority.SessionIdle + time.Minute) }})
	if _, err := late.Session(context.Background(), cookie.Value); err == nil {
		t.Fatal("an idle session is still valid")
	}
	resp, _ = get(t, c, e.srv.URL+"/ui/users")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after expiry: got %d, want a redirect to sign in", resp.StatusCode)
	}
	// Sign out ends the session on the server.
	signIn(t, e, c)
	post(t, c, e.srv.URL+"/logout", nil)
	if resp, _ := get(t, c, e.srv.URL+"/ui/users"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign out: %d", resp.StatusCode)
	}
	// Open redirects are not followed.
	if got := safeNext("//evil.example/ui/"); got != "/ui/users" {
		t.Fatalf("safeNext: %q", got)
	}
}

func TestUIActions(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	resp, _ := post(t, c, e.srv.URL+"/ui/users", url.Values{"name": {"alice"}, "email": {"alice@example.com"}, "full_name": {"Alice Martin"}, "os": {"windows"}, "lang": {"fr"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/users/alice?flash=") {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := post(t, c, e.srv.URL+"/ui/users", url.Values{"name": {"../x"}}); resp.StatusCode != 400 || !strings.Contains(body, "name") {
		t.Fatalf("bad name: %d", resp.StatusCode)
	}
	_, body := get(t, c, e.srv.URL+"/ui/users/alice")
	for _, want := range []string{"Alice Martin", "alice@example.com", "Download bundle", "Revoke", "user.issue", "admin:ann"} {
		if !strings.Contains(body, want) {
			t.Errorf("user page lacks %q", want)
		}
	}
	_, body = get(t, c, e.srv.URL+"/ui/users?q=MARTIN&status=active")
	if !strings.Contains(body, `href="/ui/users/alice"`) {
		t.Fatal("search by full name did not find alice")
	}
	_, body = get(t, c, e.srv.URL+"/ui/users?status=revoked")
	if strings.Contains(body, `href="/ui/users/alice"`) {
		t.Fatal("status filter let alice through")
	}
	resp, zipBody := get(t, c, e.srv.URL+"/ui/users/alice/bundle.zip")
	if resp.StatusCode != 200 || !strings.HasPrefix(zipBody, "PK") {
		t.Fatalf("bundle: %d", resp.StatusCode)
	}
	if _, body := post(t, c, e.srv.URL+"/ui/users/alice/link", nil); !strings.Contains(body, e.srv.URL+"/l/l_") {
		t.Fatal("link page lacks the link")
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/send", nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("send without mail configured: %d, want 409", resp.StatusCode)
	}
	_, body = get(t, c, e.srv.URL+"/ui/users")
	if !strings.Contains(body, time.Now().UTC().Format("2006-01-02")+" / –") {
		t.Fatal("users page does not show the last link sent")
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/renew", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("renew: %d", resp.StatusCode)
	}
	_, body = get(t, c, e.srv.URL+"/ui/users/alice/revoke")
	if !strings.Contains(body, "Revoke alice?") {
		t.Fatal("confirmation does not name the user")
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/revoke", url.Values{"confirm": {"bob"}}); resp.StatusCode != 400 {
		t.Fatalf("revoke with a wrong confirmation: %d", resp.StatusCode)
	}
	if d, _ := e.a.Show(context.Background(), "alice"); d.Status != "active" {
		t.Fatal("a wrong confirmation revoked alice")
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/revoke", url.Values{"confirm": {"alice"}, "reason": {"affiliation-changed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if d, _ := e.a.Show(context.Background(), "alice"); d.Status != "revoked" || d.Reason != "affiliationChanged" {
		t.Fatalf("after revoke: %+v", d)
	}
	for p, want := range map[string]string{"/ui/servers": "127.0.0.1:11942/udp", "/ui/crl": "Revoked certificates", "/ui/audit?target=alice": "user.revoke"} {
		if resp, body := get(t, c, e.srv.URL+p); resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, lacks %q", p, resp.StatusCode, want)
		}
	}
	if resp, body := get(t, c, e.srv.URL+"/ui/servers/dc1/files.tar.gz"); resp.StatusCode != 200 || len(body) < 500 {
		t.Fatalf("server files: %d", resp.StatusCode)
	}
	// A revoked user comes back only through the explicit reinstate form.
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/renew", nil); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a plain renew reinstated revoked alice")
	}
	if _, body := get(t, c, e.srv.URL+"/ui/users/alice"); !strings.Contains(body, `name="reinstate"`) {
		t.Fatal("the revoked user's page offers no reinstate form")
	}
	if resp, _ := post(t, c, e.srv.URL+"/ui/users/alice/renew", url.Values{"reinstate": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reinstate: %d", resp.StatusCode)
	}
	if d, _ := e.a.Show(context.Background(), "alice"); d.Status != "active" {
		t.Fatalf("after reinstate: %+v", d)
	}
}

func upload(t testing.TB, c *http.Client, u, file string, allOrNothing bool) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("roster", filepath.Base(file))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	if allOrNothing {
		mw.WriteField("all_or_nothing", "1")
	}
	mw.Close()
	req, _ := http.NewRequest("POST", u, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestUIImport(t *testing.T) {
	e := uiEnv(t)
	c := browser(t)
	signIn(t, e, c)
	roster := filepath.Join("..", "roster", "testdata", "roster50.csv")
	resp, body := upload(t, c, e.srv.URL+"/ui/import", roster, true)
	if resp.StatusCode != 200 || !strings.Contains(body, "nothing onboarded") {
		t.Fatalf("all-or-nothing: %d", resp.StatusCode)
	}
	if users, _, _ := e.a.List(context.Background(), authority.ListFilter{}); len(users) != 0 {
		t.Fatal("all-or-nothing onboarded someone")
	}
	resp, body = upload(t, c, e.srv.URL+"/ui/import", roster, false)
	if resp.StatusCode != 200 || !strings.Contains(body, "<strong>47</strong> issued") || !strings.Contains(body, "<strong>3</strong> refused") {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"<td>12</td>", "<td>27</td>", "<td>42</td>", "no-at-sign"} {
		if !strings.Contains(body, want) {
			t.Errorf("result lacks %q", want)
		}
	}
}

// BenchmarkUsersPage10000: the first screen of the users page with 10,000
// users (sign-in cookie, 50 rows, counts, link activity) over loopback.
func BenchmarkUsersPage10000(b *testing.B) {
	e := uiEnv(b)
	ctx := context.Background()
	if _, err := e.a.SetServer(ctx, authority.ServerChange{Name: "dc1", Subnet: "10.8.0.0/16"}); err != nil { // room for 10,000 fixed addresses
		b.Fatal(err)
	}
	reqs := make([]authority.UserRequest, 10000)
	for i := range reqs {
		reqs[i] = authority.UserRequest{Name: fmt.Sprintf("user%05d", i), Email: "u@example.com"}
	}
	if _, err := e.a.AddUsers(ctx, reqs, authority.AddOptions{NoBundles: true}); err != nil {
		b.Fatal(err)
	}
	c := browser(b)
	signIn(b, e, c)
	b.ResetTimer()
	for b.Loop() {
		resp, body := get(b, c, e.srv.URL+"/ui/users")
		if resp.StatusCode != 200 || !strings.Contains(body, "1–50 of 10000") {
			b.Fatalf("%d", resp.StatusCode)
		}
	}
}
