package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestRequestLogRedacts: however a link or API token is dressed up in the
// path (doubled slashes, dot segments, capitals, extra segments), the request
// log never carries it; the requests are still logged.
func TestRequestLogRedacts(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: "wendy"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := e.a.CreateLink(ctx, "wendy", 0)
	if err != nil {
		t.Fatal(err)
	}
	lt, at := l.Token, e.token
	paths := []string{
		"/l/" + lt, "//l/" + lt, "/./l/" + lt, "/l//" + lt, "/L/" + lt, "/l/" + lt + "/zip", "/l/./" + lt,
		"/x/../l/" + lt, "/%6c/" + lt, "///l/" + lt + "?format=zip", "/l/" + lt[:20], "/" + lt, "/static/" + lt,
		"/api/v1/users/" + at, "//api/v1/" + at + "/x", "/ui/users/" + strings.ToUpper(lt), "/l/x" + lt[2:],
	}
	// No redirects followed: the first, uncleaned request is the one to check.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range paths {
		for _, m := range []string{"GET", "POST"} {
			req, err := http.NewRequest(m, e.srv.URL+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	logs := e.logs.String()
	if got, want := strings.Count(logs, "msg=request"), 2*len(paths); got != want {
		t.Fatalf("request log lines: got %d, want %d\n%s", got, want, logs)
	}
	for _, secret := range []string{lt[2:22], strings.ToUpper(lt[2:22]), at[4:24]} {
		if strings.Contains(logs, secret) {
			t.Errorf("token text %q reached the log:\n%s", secret, logs)
		}
	}
}

func TestRedactPath(t *testing.T) {
	tok := "l_" + strings.Repeat("Ab3-", 10) + "xyz"
	for _, tc := range []struct{ name, in, want string }{
		{"kept/plain", "/ui/users/alice", "/ui/users/alice"},
		{"kept/underscore inside a word", "/ui/users/jules_x", "/ui/users/jules_x"},
		{"kept/root", "/", "/"},
		{"hidden/link", "/l/" + tok, "/l/[redacted]"},
		{"hidden/doubled slash", "//l/" + tok, "//l/[redacted]"},
		{"hidden/dot segment", "/./l/" + tok, "/./l/[redacted]"},
		{"hidden/empty segment", "/l//" + tok, "/l//[redacted]"},
		{"hidden/capital L", "/L/" + tok + "/zip", "/L/[redacted]/[redacted]"},
		{"hidden/prefix anywhere", "/x/" + tok, "/x/[redacted]"},
		{"hidden/prefix after punctuation", "/x/a." + tok, "/x/[redacted]"},
		{"hidden/api token", "/api/v1/vpk_abc", "/api/v1/[redacted]"},
		{"hidden/session token", "/S_abc", "/[redacted]"},
		{"hidden/no prefix, long random run", "/x/" + tok[2:], "/x/[redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactPath(tc.in); got != tc.want {
				t.Fatalf("redactPath(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
