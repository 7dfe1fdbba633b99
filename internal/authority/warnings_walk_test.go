package authority

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWarningTwoYears walks an injected clock day by day through two
// years of a company of 12 users with varied lifetimes and languages, one
// without email, while a real SMTP server receives the mails. Each
// warning arrives on its day, once, to its user, in their language; diego
// renews through the link in his 30-day warning, so his old certificate's
// 7- and 1-day warnings never go and his new one's do; the admin's digest
// goes at most once a day, flags jane (no email), and names the CA from a
// year before its end. Nothing sleeps: a walk takes seconds.
func TestWarningTwoYears(t *testing.T) {
	ctx := context.Background()
	// The CA ends on day 1000; renewals last 365 days.
	e := newWarnEnvWith(t, warnBackends["sqlite"](t), 1000, 365)
	for _, u := range walkUsers {
		email := u.name + "@example.com"
		if u.name == "jane" {
			email = ""
		}
		e.addUsers(t, u.days, UserRequest{Name: u.name, Email: email, Lang: u.lang})
	}
	if _, err := e.a.ServerFiles(ctx, "dc1"); err != nil { // issues dc1's certificate, for 365 days
		t.Fatal(err)
	}
	subjectWord := map[string]string{"en": "ends in", "de": "endet in", "fr": "se termine", "es": "termina en", "ru": "заканчивается"}
	lang := map[string]string{}
	for _, u := range walkUsers {
		lang[u.name] = u.lang
	}
	var got []string
	digests := map[int]int{}
	var diegoLink, digest340 string
	start := e.clk.Now()
	for k := 0; k < 730; k++ {
		before := len(e.srv.Messages())
		if k%7 == 0 { // a pass earlier that day: the 09:00 one sends nothing again
			e.clk.set(start.Add(time.Duration(k)*day - 30*time.Minute))
			e.pass(t, e.a)
		}
		e.clk.set(start.Add(time.Duration(k) * day)) // 09:00 UTC, when the certificates end
		e.pass(t, e.a)
		today := len(got)
		for _, m := range mails(t, e.srv, before) {
			if m.To == "admin@example.com" {
				digests[k]++
				checkDigest(t, k, m.Body)
				if k == 340 {
					digest340 = m.Body
				}
				continue
			}
			user := strings.TrimSuffix(m.To, "@example.com")
			end := e.userEnd(t, user)
			left := daysLeft(start.Add(time.Duration(k)*day), end)
			got = append(got, fmt.Sprintf("%d %s %d", k, user, left))
			if !strings.Contains(m.Subject, subjectWord[lang[user]]) || !strings.Contains(m.Subject, fmt.Sprint(left)) ||
				!strings.Contains(m.Subject, end.Format(time.DateOnly)) || m.Link() == "" {
				t.Errorf("day %d: %s's mail %q: want %s, %d days and %s, and a link", k, user, m.Subject, lang[user], left, end.Format(time.DateOnly))
			}
			if user == "diego" && k == 150 {
				diegoLink = m.Link()
			}
		}
		slices.Sort(got[today:]) // a pass sends in parallel
		if k == 155 {            // diego renews through his warning's link
			if _, err := e.a.RedeemLink(ctx, diegoLink, "192.0.2.9", false); err != nil {
				t.Fatalf("day 155: diego's renewal link: %v", err)
			}
		}
	}
	if !slices.Equal(got, walkWant) {
		t.Errorf("warnings:\n got %q\nwant %q", got, walkWant)
	}
	for k, n := range digests {
		if n != 1 {
			t.Errorf("day %d: %d digests, want at most 1", k, n)
		}
	}
	// Nothing ends within 30 days of day 100; server dc1 (365 days) and
	// hugo end on day 365; the CA is named daily from day 635.
	for k, n := range map[int]int{0: 1, 100: 0, 340: 1, 700: 1, 729: 1} {
		if digests[k] != n {
			t.Errorf("day %d: %d digests, want %d", k, digests[k], n)
		}
	}
	if !strings.Contains(digest340, "server  dc1") {
		t.Errorf("day 340: digest lacks server dc1:\n%s", digest340)
	}
}

// walkUsers is the company of TestWarningTwoYears: lifetimes in days.
var walkUsers = []struct {
	name, lang string
	days       int
}{
	{"ann", "en", 400}, {"bert", "de", 90}, {"chloe", "fr", 45}, {"diego", "es", 180},
	{"dasha", "ru", 30}, {"eve", "en", 10}, {"frank", "de", 5}, {"gina", "fr", 700},
	{"hugo", "es", 365}, {"ivan", "ru", 825}, {"jane", "en", 60}, {"kim", "en", 1},
}

// walkWant is every warning of the walk, "day user days-left", by day
// then name.
var walkWant = []string{
	"0 dasha 30", "0 eve 10", "0 frank 5", "0 kim 1", "3 eve 7", "4 frank 1", "9 eve 1",
	"15 chloe 30", "23 dasha 7", "29 dasha 1", "38 chloe 7", "44 chloe 1",
	"60 bert 30", "83 bert 7", "89 bert 1", "150 diego 30",
	"335 hugo 30", "358 hugo 7", "364 hugo 1", "370 ann 30", "393 ann 7", "399 ann 1",
	"490 diego 30", "513 diego 7", "519 diego 1", "670 gina 30", "693 gina 7", "699 gina 1",
}

// userEnd is the end of user's current certificate.
func (e *warnEnv) userEnd(t testing.TB, user string) time.Time {
	t.Helper()
	uc, err := e.db.Q().GetUser(context.Background(), user)
	if err != nil || uc.Cert == nil {
		t.Fatalf("user %s: %v", user, err)
	}
	return uc.Cert.NotAfter
}

// checkDigest checks the day's digest: jane flagged while due, the CA
// named from a year before its end (day 635) on.
func checkDigest(t testing.TB, k int, body string) {
	t.Helper()
	if k >= 30 && k < 60 && !strings.Contains(body, "jane") {
		t.Errorf("day %d: digest lacks jane:\n%s", k, body)
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "user") && strings.Contains(line, "jane") && !strings.Contains(line, "no email") {
			t.Errorf("day %d: jane not flagged: %q", k, line)
		}
	}
	if hasCA := strings.Contains(body, "\nca "); hasCA != (k >= 635) {
		t.Errorf("day %d: CA in the digest: %t, want %t", k, hasCA, k >= 635)
	}
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
