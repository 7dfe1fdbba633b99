package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// Options configure a Server.
type Options struct {
	Authority *authority.Authority
	Mailer    authority.Mailer // nil: mail not configured
	Logger    *slog.Logger
	Metrics   *Metrics // nil: a fresh one
}

// Server serves the API, the link pages, the CRL and metrics.
type Server struct {
	auth    *authority.Authority
	mailer  authority.Mailer
	log     *slog.Logger
	metrics *Metrics
	limiter loginLimiter
	// loginWait is how long a sign-in waits for a password-check slot.
	loginWait time.Duration
	handler   http.Handler
}

// New builds the server's routes.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(o.Authority)
	}
	s := &Server{auth: o.Authority, mailer: o.Mailer, log: o.Logger, metrics: o.Metrics, loginWait: loginWait}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /crl.pem", s.crlPEM)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /static/style.css", serveCSS)
	mux.HandleFunc("GET /l/{token}", s.linkPage)
	mux.HandleFunc("POST /l/{token}", s.linkDownload)
	s.apiRoutes(mux)
	s.uiRoutes(mux)
	s.handler = s.logRequests(securityHeaders(mux))
	return s
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.auth.CRL(r.Context()); err != nil {
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

func (s *Server) crlPEM(w http.ResponseWriter, r *http.Request) {
	c, err := s.auth.CRL(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Last-Modified", c.ThisUpdate.UTC().Format(http.TimeFormat))
	w.Write(c.PEM)
}

// redactPath hides anything in a request path that may be a secret, for
// logs. The path is logged as the client sent it, before the mux cleans it,
// so "/l/" is not enough: "//l/TOKEN", "/./l/TOKEN", "/L/TOKEN" and
// "/l/TOKEN/zip" all reach the log. A segment is hidden when it follows a
// segment "l" (any case), when a secret prefix (any case) starts it or
// follows a non-alphanumeric byte in it, or when it holds a run of 40 or
// more token characters (a token's random part is 43). This hides a few
// innocent segments too (a user named l_ann); a log loses little by that.
// The query string is never logged.
func redactPath(p string) string {
	segs := strings.Split(p, "/")
	afterL := false
	for i, seg := range segs {
		if (afterL && seg != "") || secretLike(seg) {
			segs[i] = "[redacted]"
		}
		if strings.EqualFold(seg, "l") {
			afterL = true
		}
	}
	return strings.Join(segs, "/")
}

// secretLike reports whether one path segment may carry a secret.
func secretLike(seg string) bool {
	low := strings.ToLower(seg)
	for _, pre := range authority.SecretPrefixes() {
		for i := 0; ; {
			j := strings.Index(low[i:], pre)
			if j < 0 {
				break
			}
			if at := i + j; at == 0 || !isAlnum(low[at-1]) {
				return true
			}
			i += j + 1
		}
	}
	run := 0
	for k := 0; k < len(seg); k++ {
		if isAlnum(seg[k]) || seg[k] == '-' || seg[k] == '_' {
			if run++; run >= 40 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Info("request", slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", rec.status), slog.Duration("took", time.Since(start)), slog.String("remote", remoteIP(r)))
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Serve runs srv on l until ctx ends, then shuts down gracefully: no new
// connections, in-flight requests finish (up to grace).
func Serve(ctx context.Context, srv *http.Server, serve func() error, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
