package web

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAPIDays: "days" on POST users, renew and POST servers sets the
// lifetime; 0, a negative number, more than 3650 days or a certificate that
// would outlive the CA is a 400 with nothing changed; GET /api/v1/expiring
// lists what is due.
func TestAPIDays(t *testing.T) {
	e := newEnv(t, nil)
	in := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }
	count := func() string {
		var c, u, s int
		e.db.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM certificates), (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM servers)`).Scan(&c, &u, &s)
		return strings.Join([]string{itoa(c), itoa(u), itoa(s)}, "/")
	}
	for _, c := range []struct {
		name, method, path, body string
		want                     int
		has                      string
	}{
		{"ok/add alice for 10 days", "POST", "/api/v1/users", `{"name":"alice","days":10}`, 201, in(10)},
		{"ok/add bob by default", "POST", "/api/v1/users", `{"name":"bob"}`, 201, in(825)},
		{"ok/renew bob for 20 days", "POST", "/api/v1/users/bob/renew", `{"days":20}`, 200, in(20)},
		{"ok/server for 100 days", "POST", "/api/v1/servers", `{"name":"dc2","remote":"vpn2.example.com:1194","days":100}`, 201, `"dc2"`},
		{"fail/add zero", "POST", "/api/v1/users", `{"name":"carol","days":0}`, 400, `days 0: a certificate lifetime must be 1 to 3650 days`},
		{"fail/add negative", "POST", "/api/v1/users", `{"name":"carol","days":-1}`, 400, `days -1`},
		{"fail/add too long", "POST", "/api/v1/users", `{"name":"carol","days":3651}`, 400, `1 to 3650`},
		{"fail/add outlives CA", "POST", "/api/v1/users", `{"name":"carol","days":3650}`, 400, `at most 3649 days fit`},
		{"fail/renew zero", "POST", "/api/v1/users/bob/renew", `{"days":0}`, 400, `1 to 3650`},
		{"fail/renew outlives CA", "POST", "/api/v1/users/bob/renew", `{"days":3650}`, 400, `outlive the CA`},
		{"fail/server negative", "POST", "/api/v1/servers", `{"name":"dc3","remote":"vpn3.example.com:1194","days":-5}`, 400, `days -5`},
		{"fail/server outlives CA", "POST", "/api/v1/servers", `{"name":"dc3","remote":"vpn3.example.com:1194","days":3650}`, 400, `outlive the CA`},
		{"ok/expiring default 30d", "GET", "/api/v1/expiring", "", 200, `"name": "alice"`},
		{"fail/expiring bad horizon", "GET", "/api/v1/expiring?within=0d", "", 400, `within \"0d\"`},
		{"fail/expiring no token", "GET", "/api/v1/expiring", "", 401, `"unauthorized"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := e.token
			if strings.HasSuffix(c.name, "no token") {
				token = ""
			}
			before := count()
			resp, body := e.do(t, c.method, c.path, token, c.body)
			if resp.StatusCode != c.want || !strings.Contains(string(body), c.has) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, c.want, c.has)
			}
			if after := count(); strings.HasPrefix(c.name, "fail/") && after != before {
				t.Errorf("rows: got %s, want %s (nothing changed)", after, before)
			}
		})
	}
	t.Run("ok/expiring 3w by date", func(t *testing.T) {
		_, body := e.do(t, "GET", "/api/v1/expiring?within=3w", e.token, "")
		a, b := strings.Index(string(body), `"alice"`), strings.Index(string(body), `"bob"`)
		if a < 0 || b < a || strings.Contains(string(body), `"dc2"`) {
			t.Errorf("got %s, want alice then bob, and not dc2 (no certificate yet)", body)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
