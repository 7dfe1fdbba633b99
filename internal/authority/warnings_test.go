package authority

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

const day = 24 * time.Hour

// TestWarningThresholds, on SQLite and PostgreSQL: each threshold is
// mailed once, on its day, in the user's language; a user first seen at 5
// days left gets the 7-day warning alone and the 30-day one is recorded
// as passed; a user without email is skipped and flagged in the digest,
// which goes once per UTC day.
func TestWarningThresholds(t *testing.T) {
	for name, dsn := range warnBackends {
		t.Run("ok/"+name, func(t *testing.T) {
			e := newWarnEnv(t, dsn(t))
			e.addUsers(t, 40, UserRequest{Name: "alice", Email: "alice@example.com", Lang: "de"})
			e.addUsers(t, 20, UserRequest{Name: "bob"})
			e.addUsers(t, 5, UserRequest{Name: "carol", Email: "carol@example.com", Lang: "fr", FullName: "Carol Dupont"})
			steps := []struct {
				name    string
				advance time.Duration
				want    string // user:threshold of the warnings mailed, then "digest" when one went
			}{
				{"day 0: carol caught up at 5 days left", 0, "carol:7 digest"},
				{"day 0 again: nothing twice", time.Hour, ""},
				{"day 4: carol 1 day left", 4 * day, "carol:1 digest"},
				{"day 10: alice at 30", 6 * day, "alice:30 digest"},
				{"day 10 later: nothing", 5 * time.Hour, ""},
				{"day 33: alice at 7", 23 * day, "alice:7 digest"},
				{"day 39: alice at 1", 6 * day, "alice:1 digest"},
				{"day 41: all expired", 2 * day, ""},
			}
			for _, s := range steps {
				e.clk.Add(s.advance)
				before := len(e.srv.Messages())
				res := e.pass(t, e.a)
				var got []string
				for _, m := range mails(t, e.srv, before) {
					if m.To == "admin@example.com" {
						got = append(got, "digest")
						continue
					}
					user := strings.SplitN(m.To, "@", 2)[0]
					got = append(got, fmt.Sprintf("%s:%s", user, thresholdOf(t, e, user)))
				}
				if g := strings.Join(got, " "); g != s.want {
					t.Errorf("%s: got %q, want %q", s.name, g, s.want)
				}
				if !strings.Contains(s.want, "carol") && !strings.Contains(s.want, "alice") && res.Sent != 0 {
					t.Errorf("%s: sent %d, want 0", s.name, res.Sent)
				}
			}
			rep, err := e.a.Warnings(context.Background(), []int{30, 7, 1})
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, w := range rep.Sent {
				kinds[fmt.Sprintf("%s passed=%t", w.Kind, w.Passed)]++
			}
			if want := "map[digest passed=false:5 user passed=false:5 user passed=true:1]"; fmt.Sprint(kinds) != want {
				t.Errorf("report: got %v, want %s", kinds, want)
			}
		})
	}
}

// thresholdOf is the threshold of the newest warning mailed to user, as
// audited (warn.sent); the audit must not hold the link's token.
func thresholdOf(t testing.TB, e *warnEnv, user string) string {
	t.Helper()
	evs, err := e.a.Audit(context.Background(), AuditFilter{Target: user, Action: "warn.sent", Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no warn.sent audited for %s: %v", user, err)
	}
	if strings.Contains(evs[0].DetailText(), "l_") {
		t.Fatalf("audit of the warning holds a link token: %s", evs[0].DetailText())
	}
	var d struct{ Days int }
	if err := json.Unmarshal(evs[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(d.Days)
}

// TestWarningMailAndCatchUp checks one mail closely: French, subject with
// the days left and the date, a renewal link valid until the certificate's
// end; the passed 30-day threshold is recorded without a mail.
func TestWarningMailAndCatchUp(t *testing.T) {
	e := newWarnEnv(t, warnBackends["sqlite"](t))
	ctx := context.Background()
	e.addUsers(t, 5, UserRequest{Name: "carol", Email: "carol@example.com", Lang: "fr", FullName: "Carol Dupont"})
	res := e.pass(t, e.a)
	if res.Sent != 1 || len(res.Due) != 1 || res.Due[0].Threshold != 7 || fmt.Sprint(res.Due[0].Passed) != "[30]" {
		t.Fatalf("got %+v, want the 7-day warning with 30 passed", res)
	}
	m := mails(t, e.srv, 0)[0]
	end := e.clk.Now().Add(5 * day).Format(time.DateOnly)
	if m.To != "carol@example.com" || !strings.Contains(m.Subject, "5 jours") || !strings.Contains(m.Subject, end) ||
		!strings.Contains(m.Body, "Bonjour Carol Dupont") || m.Link() == "" {
		t.Fatalf("got mail %+v, want French with 5 days, %s and a link", m, end)
	}
	v, err := e.a.OpenLink(ctx, m.Link())
	if err != nil || !v.Renew || !v.ExpiresAt.Equal(e.clk.Now().Add(5*day)) {
		t.Fatalf("renewal link: got %+v, %v; want a renewal link until the certificate's end", v, err)
	}
	ws, _ := e.db.Q().Warnings(ctx)
	got := map[int]bool{}
	for _, w := range ws {
		got[w.Days] = w.Passed
	}
	if len(got) != 3 || got[7] || !got[30] { // 7 mailed, 30 passed, 0 the digest
		t.Errorf("recorded %+v, want 7 mailed and 30 passed", ws)
	}
}

// TestWarningRenewal follows the link in the mail: it renews the access
// (the old certificate superseded) and hands out the new profile, once; a
// renewed user's new certificate is warned about afresh; a link whose
// certificate was renewed meanwhile is refused as out of date.
func TestWarningRenewal(t *testing.T) {
	e := newWarnEnv(t, warnBackends["sqlite"](t))
	ctx := context.Background()
	e.addUsers(t, 30, UserRequest{Name: "alice", Email: "alice@example.com"}, UserRequest{Name: "dave", Email: "dave@example.com"},
		UserRequest{Name: "erin", Email: "erin@example.com"})
	e.pass(t, e.a)
	links := map[string]string{}
	for _, m := range mails(t, e.srv, 0) {
		links[m.To] = m.Link()
	}
	old, _ := e.db.Q().GetUser(ctx, "alice")
	d, err := e.a.RedeemLink(ctx, links["alice@example.com"], "192.0.2.7", false)
	if err != nil {
		t.Fatalf("redeeming the renewal link: %v", err)
	}
	now, _ := e.db.Q().GetUser(ctx, "alice")
	if now.Cert.Serial == old.Cert.Serial || !strings.Contains(string(d.Data), strings.TrimSpace(now.Cert.CertPEM)[:60]) {
		t.Fatalf("got serial %s (was %s) and a profile without the new certificate", now.Cert.Serial, old.Cert.Serial)
	}
	if certs, _ := e.db.Q().CertsOf(ctx, store.KindClient, "alice"); len(certs) != 2 || reasonOf(certs, old.Cert.Serial) != "superseded" {
		t.Errorf("old certificate: got %+v, want superseded", certs)
	}
	if _, err := e.a.RedeemLink(ctx, links["alice@example.com"], "192.0.2.7", false); !errors.Is(err, ErrLinkUsed) && !errors.Is(err, ErrRenewStale) {
		t.Errorf("second use: got %v, want refused", err)
	}
	// dave is renewed by the admin: his link is out of date.
	if _, err := e.a.Renew(ctx, "dave", AddOptions{NoBundles: true, Days: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.OpenLink(ctx, links["dave@example.com"]); !errors.Is(err, ErrRenewStale) {
		t.Errorf("opening a stale renewal link: got %v, want ErrRenewStale", err)
	}
	if _, err := e.a.RedeemLink(ctx, links["dave@example.com"], "", false); !errors.Is(err, ErrRenewStale) {
		t.Errorf("using a stale renewal link: got %v, want ErrRenewStale", err)
	}
	// erin is revoked: her link renews nothing.
	if _, err := e.a.Revoke(ctx, "erin", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.RedeemLink(ctx, links["erin@example.com"], "", false); !errors.Is(err, ErrRenewStale) {
		t.Errorf("a revoked user's renewal link: got %v, want ErrRenewStale", err)
	}
	if certs, _ := e.db.Q().CertsOf(ctx, store.KindClient, "erin"); len(certs) != 1 {
		t.Errorf("revoked erin has %d certificates, want 1 (no renewal)", len(certs))
	}
	// Renewed for 30 days: the new certificate gets its own 30-day warning.
	before := len(e.srv.Messages())
	e.clk.Add(time.Hour)
	if res := e.pass(t, e.a); res.Sent != 1 || res.Due[0].User != "dave" || res.Due[0].Threshold != 30 {
		t.Errorf("after dave's renewal: got %+v, want his new certificate's 30-day warning", res)
	}
	if got := len(mails(t, e.srv, before)); got != 1 {
		t.Errorf("got %d mails, want 1", got)
	}
}

func reasonOf(certs []store.Cert, serial string) string {
	for _, c := range certs {
		if c.Serial == serial {
			return c.Reason
		}
	}
	return ""
}

// TestWarningRetryAndTakeover: a send that fails leaves no record and the
// next pass sends it; a claim whose instance died blocks the warning for
// 10 minutes, then another pass takes it over and sends it once.
func TestWarningRetryAndTakeover(t *testing.T) {
	for name, dsn := range warnBackends {
		t.Run("ok/"+name, func(t *testing.T) {
			e := newWarnEnv(t, dsn(t))
			ctx := context.Background()
			e.addUsers(t, 20, UserRequest{Name: "alice", Email: "alice@example.com"}, UserRequest{Name: "bob", Email: "bob@example.com"})
			dead := testSender(t, deadPort(t), e.srv)
			res, err := e.a.SendWarnings(ctx, dead, []int{30, 7, 1})
			if err == nil || res.Failed != 2 || res.Sent != 0 || res.Digest {
				t.Fatalf("pass with SMTP down: got %+v, %v; want 2 failures and no digest", res, err)
			}
			if ws, _ := e.db.Q().Warnings(ctx); len(ws) != 0 {
				t.Fatalf("failed sends left %d records, want none", len(ws))
			}
			// bob's warning is claimed by an instance that then dies.
			bob, _ := e.db.Q().GetUser(ctx, "bob")
			if ok, err := e.db.Q().ClaimWarning(ctx, store.Warning{Serial: bob.Cert.Serial, Days: 30, User: "bob", ClaimedAt: e.clk.Now().Unix()}, "dead", 0); !ok || err != nil {
				t.Fatalf("claiming: %v %v", ok, err)
			}
			e.clk.Add(time.Minute)
			if res := e.pass(t, e.a); res.Sent != 1 || res.Due[0].User != "alice" || !res.Digest {
				t.Errorf("retry: got %+v, want alice's warning and the digest", res)
			}
			e.clk.Add(5 * time.Minute)
			if res := e.pass(t, e.a); res.Sent != 0 {
				t.Errorf("claim 6 minutes old: got %+v, want nothing sent", res)
			}
			e.clk.Add(5 * time.Minute)
			if res := e.pass(t, e.a); res.Sent != 1 || res.Due[0].User != "bob" {
				t.Errorf("claim 11 minutes old: got %+v, want bob's warning taken over", res)
			}
			if got := len(e.srv.Messages()); got != 3 {
				t.Errorf("got %d mails, want 3 (alice, digest, bob)", got)
			}
		})
	}
}

// TestWarningRace: two Authorities on one database run passes at once,
// over and over: each warning and the day's digest are mailed exactly once.
func TestWarningRace(t *testing.T) {
	for name, dsn := range warnBackends {
		t.Run("ok/"+name, func(t *testing.T) {
			e := newWarnEnv(t, dsn(t))
			const users = 12
			var reqs []UserRequest
			for i := range users {
				reqs = append(reqs, UserRequest{Name: fmt.Sprintf("u%02d", i), Email: fmt.Sprintf("u%02d@example.com", i)})
			}
			e.addUsers(t, 20, reqs...)
			b := e.second(t)
			var wg sync.WaitGroup
			for round := range 3 {
				for _, a := range []*Authority{e.a, b, e.a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := a.SendWarnings(context.Background(), e.m, []int{30, 7, 1}); err != nil {
							t.Errorf("round %d: %v", round, err)
						}
					}()
				}
				wg.Wait()
			}
			count := map[string]int{}
			for _, m := range mails(t, e.srv, 0) {
				count[m.To]++
			}
			if len(count) != users+1 {
				t.Errorf("got mails to %d addresses, want %d", len(count), users+1)
			}
			for to, n := range count {
				if n != 1 {
					t.Errorf("%s got %d mails, want 1", to, n)
				}
			}
		})
	}
}
