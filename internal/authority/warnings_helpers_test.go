package authority

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vmail "github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/mail/smtptest"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

// warnEnv is an authority with an injected clock and a real SMTP server.
type warnEnv struct {
	a    *Authority
	db   *store.DB
	clk  *testClock
	srv  *smtptest.Server
	m    *vmail.Sender
	opts Options
}

// warnBackends opens a fresh database of each kind.
var warnBackends = map[string]func(t testing.TB) string{
	"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "vpnkeys.db") },
	"postgres": func(t testing.TB) string { return pgtest.Start(t) },
}

// newWarnEnv opens dsn with a 10-year CA, server dc1, the clock at
// 2026-01-01 09:00 UTC and an SMTP server whose admin is admin@example.com.
func newWarnEnv(t testing.TB, dsn string) *warnEnv { return newWarnEnvWith(t, dsn, 3650, 0) }

// newWarnEnvWith is newWarnEnv with a CA of caDays and renewals (and
// servers) of leafDays (0: the default).
func newWarnEnvWith(t testing.TB, dsn string, caDays, leafDays int) *warnEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &testClock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	opts := Options{DataDir: t.TempDir(), Now: clk.Now, Company: "Example Ltd", PublicURL: "https://vpn.example.com",
		LeafDays: leafDays}
	a := New(db, opts)
	if err := a.Init(ctx, InitRequest{Algo: pki.P256, Days: caDays, NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn.example.com:1194", Subnet: "10.8.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t, false)
	return &warnEnv{a: a, db: db, clk: clk, srv: srv, m: testSender(t, srv.Port, srv), opts: opts}
}

// testSender sends to port (the test server's, or a closed one) as srv's user.
func testSender(t testing.TB, port int, srv *smtptest.Server) *vmail.Sender {
	t.Helper()
	m, err := vmail.NewSender(vmail.Config{Host: "127.0.0.1", Port: port, Username: srv.User, Password: vmail.Secret(srv.Password),
		From: "vpn@example.com", Admin: "admin@example.com", RootCAFile: srv.CAFile, Retries: 1, Backoff: time.Millisecond,
		Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// deadPort is a loopback port nothing listens on.
func deadPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// second is another Authority on the same database, as another serve
// instance would be, with the CA unlocked.
func (e *warnEnv) second(t testing.TB) *Authority {
	b := New(e.db, e.opts)
	if err := b.Unlock(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *warnEnv) addUsers(t testing.TB, days int, reqs ...UserRequest) {
	t.Helper()
	if _, err := e.a.AddUsers(context.Background(), reqs, AddOptions{NoBundles: true, Days: days}); err != nil {
		t.Fatal(err)
	}
}

func (e *warnEnv) pass(t testing.TB, a *Authority, days ...int) WarnResult {
	t.Helper()
	if len(days) == 0 {
		days = []int{30, 7, 1}
	}
	res, err := a.SendWarnings(context.Background(), e.m, days)
	if err != nil {
		t.Fatalf("SendWarnings: %v", err)
	}
	return res
}

// gotMail is a received mail, decoded.
type gotMail struct {
	To, Subject, Body string
}

var linkRE = regexp.MustCompile(`https://vpn\.example\.com/l/(l_[A-Za-z0-9_-]+)`)

// Link is the one-time link's token in the mail.
func (g gotMail) Link() string {
	if m := linkRE.FindStringSubmatch(g.Body); m != nil {
		return m[1]
	}
	return ""
}

// mails decodes what srv received from index from on.
func mails(t testing.TB, srv *smtptest.Server, from int) []gotMail {
	t.Helper()
	var out []gotMail
	for _, m := range srv.Messages()[from:] {
		out = append(out, decodeMail(t, m))
	}
	return out
}

func decodeMail(t testing.TB, m smtptest.Message) gotMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return gotMail{To: strings.Join(m.To, ","), Subject: subj, Body: string(body)}
}
