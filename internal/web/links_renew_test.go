package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
)

// TestRenewalLinkPages: the renewal link from a warning mail shows a page
// that says the access is being renewed and downloads a new profile; one
// whose certificate was renewed meanwhile gets its own page, in the user's
// language, and hands out nothing; no token reaches the log.
func TestRenewalLinkPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	reqs := []authority.UserRequest{{Name: "anna", Email: "anna@example.com", Lang: "en"}, {Name: "dirk", Email: "dirk@example.com", Lang: "de"}}
	if _, err := e.a.AddUsers(ctx, reqs, authority.AddOptions{Days: 5}); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t, false)
	m, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: srv.Port, Username: srv.User, Password: mail.Secret(srv.Password),
		From: "vpn@example.com", RootCAFile: srv.CAFile, Backoff: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.a.SendWarnings(ctx, m, []int{30, 7, 1}); err != nil || res.Sent != 2 {
		t.Fatalf("SendWarnings: %+v %v", res, err)
	}
	links := map[string]string{}
	re := regexp.MustCompile(`/l/(l_[A-Za-z0-9_-]+)`)
	for _, msg := range srv.Messages() {
		raw := strings.ReplaceAll(strings.ReplaceAll(string(msg.Data), "=\r\n", ""), "=3D", "=")
		if mm := re.FindStringSubmatch(raw); mm != nil {
			links[msg.To[0]] = mm[1]
		}
	}
	anna, dirk := links["anna@example.com"], links["dirk@example.com"]
	if anna == "" || dirk == "" {
		t.Fatalf("links in the mails: %v", links)
	}
	resp, page := e.do(t, "GET", "/l/"+anna, "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(page), "This link renews your VPN access") {
		t.Fatalf("renewal page: %d\n%s", resp.StatusCode, page)
	}
	code, body := postLink(t, e.srv.URL+"/l/"+anna)
	if code != 200 || !strings.Contains(body, "BEGIN CERTIFICATE") {
		t.Fatalf("renewal download: %d", code)
	}
	if code, _ := postLink(t, e.srv.URL+"/l/"+anna); code != http.StatusGone {
		t.Errorf("second use of the renewal link: got %d, want 410", code)
	}

	if _, err := e.a.Renew(ctx, "dirk", authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, page = e.do(t, "GET", "/l/"+dirk, "", "")
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(page), "Dieser Verlängerungslink ist veraltet") {
		t.Errorf("stale renewal page: got %d, want 410 and the German page\n%s", resp.StatusCode, page)
	}
	if code, body := postLink(t, e.srv.URL+"/l/"+dirk); code != http.StatusGone || !strings.Contains(body, "Dieser Verlängerungslink ist veraltet") {
		t.Errorf("stale renewal download: got %d, want 410 and the German page", code)
	}
	for _, tok := range []string{anna, dirk} {
		if strings.Contains(e.logs.String(), tok) {
			t.Fatal("a link token reached the log")
		}
	}
}

func postLink(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(link, url.Values{"format": {"ovpn"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
