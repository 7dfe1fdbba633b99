package web

import (
	"context"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

const sessionCookie = "vpnkeys_session"

// uiPages returns each page parsed with the layout, parsed on first use:
// every CLI run initialises this package, and only serve needs the pages.
var uiPages = sync.OnceValue(func() map[string]*template.Template {
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.DateOnly)
		},
		"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12] + "…"
			}
			return s
		},
	}
	names, err := fs.Glob(assets, "templates/ui/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(n[len("templates/ui/"):], ".html")
		if base == "layout" || base == "events" {
			continue
		}
		t := template.New("layout").Funcs(funcs)
		m[base] = template.Must(t.ParseFS(assets, "templates/ui/layout.html", "templates/ui/events.html", n))
	}
	return m
})

// page is what every UI page gets.
type page struct {
	Title, Admin, Flash, Error string
}

type adminKey struct{}

func adminOf(ctx context.Context) string {
	s, _ := ctx.Value(adminKey{}).(string)
	return s
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := uiPages()[name].ExecuteTemplate(w, "layout", data); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
	}
}

// uiRoutes registers the admin pages behind sign-in, all wrapped in
// cross-origin protection: a state-changing request from another site is
// refused before any handler runs.
func (s *Server) uiRoutes(mux *http.ServeMux) {
	ui := http.NewServeMux()
	ui.HandleFunc("GET /login", s.loginPage)
	ui.HandleFunc("POST /login", s.login)
	ui.HandleFunc("POST /logout", s.logout)
	ui.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/users", http.StatusSeeOther) })
	ui.HandleFunc("GET /static/htmx.min.js", serveStatic("static/htmx.min.js", "text/javascript"))
	ui.HandleFunc("GET /static/ui.js", serveStatic("static/ui.js", "text/javascript"))
	for _, rt := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /ui/users", s.uiUsers},
		{"GET /ui/users/new", s.uiNewUser},
		{"POST /ui/users", s.uiCreateUser},
		{"GET /ui/users/{user}", s.uiUser},
		{"GET /ui/users/{user}/bundle.zip", s.uiBundle},
		{"POST /ui/users/{user}/send", s.uiSend},
		{"POST /ui/users/{user}/link", s.uiLink},
		{"POST /ui/users/{user}/renew", s.uiRenew},
		{"POST /ui/users/{user}/disconnect", s.uiDisconnect},
		{"GET /ui/users/{user}/revoke", s.uiRevokeConfirm},
		{"POST /ui/users/{user}/revoke", s.uiRevoke},
		{"GET /ui/import", s.uiImportPage},
		{"POST /ui/import", s.uiImport},
		{"GET /ui/servers", s.uiServers},
		{"POST /ui/servers", s.uiAddServer},
		{"POST /ui/servers/{server}/remove", s.uiRemoveServer},
		{"POST /ui/users/{user}/remove", s.uiRemoveUser},
		{"GET /ui/servers/{server}/files.tar.gz", s.handle(s.serverFiles)},
		{"GET /ui/sessions", s.uiSessions},
		{"GET /ui/crl", s.uiCRL},
		{"GET /ui/audit", s.uiAudit},
	} {
		ui.Handle(rt.pattern, s.signedIn(rt.h))
	}
	for _, rt := range s.groupUIRoutes() {
		ui.Handle(rt.pattern, s.signedIn(rt.h))
	}
	h := http.NewCrossOriginProtection().Handler(ui)
	for _, p := range []string{"/login", "/logout", "/{$}", "/static/htmx.min.js", "/static/ui.js", "/ui/"} {
		mux.Handle(p, h)
	}
}

func serveStatic(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := assets.ReadFile(name)
		w.Header().Set("Content-Type", ctype+"; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(b)
	}
}

// signedIn lets a request through with a live session, tagging its actor;
// otherwise it sends the browser to the sign-in page.
func (s *Server) signedIn(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var name string
		if err == nil {
			name, err = s.auth.Session(r.Context(), c.Value)
		}
		if err != nil {
			if !errors.Is(err, authority.ErrNoSession) && !errors.Is(err, http.ErrNoCookie) {
				s.log.Error("checking session", "err", err)
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		ctx := context.WithValue(r.Context(), adminKey{}, name)
		ctx = authority.WithActor(ctx, authority.Actor{Name: "admin:" + name, Source: remoteIP(r)})
		next(w, r.WithContext(ctx))
	})
}

type loginData struct {
	page
	Next, Name, Company string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", loginData{page: page{Title: "Sign in"}, Next: safeNext(r.URL.Query().Get("next")), Company: s.auth.Company()})
}

// safeNext keeps redirects on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/ui/") || strings.HasPrefix(n, "//") || strings.Contains(n, "\\") {
		return "/ui/users"
	}
	return n
}

// Sign-in limits: per source address and per admin name, loginBurst
// attempts at once, then one more every loginEvery; a request waits at most
// loginWait for one of authority.MaxPasswordChecks slots, then gets 503.
const (
	loginBurst = 5
	loginEvery = 12 * time.Second
	loginWait  = 5 * time.Second
)

// loginLimiter slows down password guessing. An attempt takes its tokens
// (one per key: address and name) before the password is checked, all or
// none under one lock, so parallel guesses cannot outrun it. A successful
// sign-in, or one that found the server busy and checked nothing, gives
// them back: only failures count.
type loginLimiter struct {
	mu sync.Mutex
	m  map[string]*loginBucket
}

type loginBucket struct {
	tokens float64
	at     time.Time
}

// take takes one token from each key's bucket, or none when one is empty.
func (l *loginLimiter) take(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*loginBucket{}
	}
	if len(l.m) > 10000 {
		l.forgetFull(now)
	}
	bs := make([]*loginBucket, len(keys))
	for i, k := range keys {
		b := l.m[k]
		if b == nil {
			b = &loginBucket{tokens: loginBurst, at: now}
			l.m[k] = b
		}
		b.refill(now)
		if b.tokens < 1 {
			return false
		}
		bs[i] = b
	}
	for _, b := range bs {
		b.tokens--
	}
	return true
}

// giveBack returns the tokens take took.
func (l *loginLimiter) giveBack(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if b := l.m[k]; b != nil {
			b.tokens = min(b.tokens+1, loginBurst)
		}
	}
}

func (b *loginBucket) refill(now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(b.tokens+float64(d)/float64(loginEvery), loginBurst)
		b.at = now
	}
}

// forgetFull bounds memory: full buckets are the same as none. If that is
// not enough (a flood of addresses), it starts over.
func (l *loginLimiter) forgetFull(now time.Time) {
	for k, b := range l.m {
		if b.refill(now); b.tokens >= loginBurst {
			delete(l.m, k)
		}
	}
	if len(l.m) > 10000 {
		l.m = map[string]*loginBucket{}
	}
}

// limitKey is the address a client is limited by: IPv6 clients by their
// /64, which one host usually holds whole.
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return "ip:" + ip
	}
	p, _ := a.Prefix(64)
	return "ip:" + p.String()
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name, pw := r.FormValue("name"), r.FormValue("password")
	next := safeNext(r.FormValue("next"))
	ip := remoteIP(r)
	keys := []string{limitKey(ip), "name:" + name}
	data := loginData{page: page{Title: "Sign in"}, Next: next, Name: name, Company: s.auth.Company()}
	if !s.limiter.take(time.Now(), keys...) {
		s.log.Warn("login refused: too many failures", "admin", name, "remote", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int(loginEvery/time.Second)))
		data.Error = "Too many failed sign-ins. Wait a minute and try again."
		s.render(w, r, http.StatusTooManyRequests, "login", data)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.loginWait)
	defer cancel()
	tok, err := s.auth.Login(ctx, name, pw, ip)
	switch {
	case errors.Is(err, authority.ErrBusy):
		s.limiter.giveBack(keys...)
		s.log.Warn("login refused: password checks busy", "admin", name, "remote", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int(loginWait/time.Second)))
		data.Error = "The server is busy. Try again in a few seconds."
		s.render(w, r, http.StatusServiceUnavailable, "login", data)
		return
	case errors.Is(err, authority.ErrBadLogin):
		s.log.Warn("login failed", "admin", name, "remote", ip)
		data.Error = "Wrong admin name or password."
		s.render(w, r, http.StatusUnauthorized, "login", data)
		return
	case err != nil:
		s.log.Error("signing in", "admin", name, "remote", ip, "err", err)
		data.Error = "Sign-in failed on the server; see its log."
		s.render(w, r, http.StatusInternalServerError, "login", data)
		return
	}
	s.limiter.giveBack(keys...)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(authority.SessionMax / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.auth.Logout(r.Context(), c.Value, remoteIP(r)); err != nil {
			s.log.Error("signing out", "remote", remoteIP(r), "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
