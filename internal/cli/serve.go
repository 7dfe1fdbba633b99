package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
	"github.com/vpnkeys/vpnkeys/internal/mail"
	"github.com/vpnkeys/vpnkeys/internal/web"
)

type serveFlags struct {
	listen, publicURL, cert, key string
	self, insecureHTTP           bool
	crlSync                      time.Duration
	warnInterval                 time.Duration // expiry warnings (warnings.go)
	agent                        agentFlags
}

func (app *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the REST API, the one-time link pages, /crl.pem and /metrics",
		Long: `serve runs vpnkeys' HTTP server on the same database as the CLI. It asks for the
CA passphrase once at start (or reads it from --passphrase-file or
` + EnvPassphrase + `) and keeps the CA unlocked in memory only.

It serves TLS with --tls-cert/--tls-key, or with --tls-self (a certificate for
the listen host issued from the CA at start). Plain HTTP is allowed on a loopback
address only, unless --insecure-http. SIGTERM or Ctrl-C stops it gracefully:
requests in flight finish.

With --agent-listen it also serves the vpnkeys agents beside the OpenVPN
servers, on a TLS listener of its own (a certificate from the CA for
--agent-host names, renewed while serving) that admits each agent only to
its own server's state: see vpnkeys server enroll.`,
		Example: `  vpnkeys serve --listen 127.0.0.1:8080
  vpnkeys --config /etc/vpnkeys/vpnkeys.toml serve
  vpnkeys serve --listen 0.0.0.0:8443 --tls-self --public-url https://vpn.example.com:8443
  vpnkeys serve --listen 127.0.0.1:8080 --agent-listen 0.0.0.0:8444 --agent-host control.example.com`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return app.serve(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fl.DurationVar(&f.crlSync, "crl-sync", time.Minute, "how often to make sure every server folder on this host holds the newest crl.pem")
	fl.StringVar(&f.publicURL, "public-url", "", "URL employees use to reach this server (for links); default from --listen")
	fl.StringVar(&f.cert, "tls-cert", "", "TLS certificate (PEM)")
	fl.StringVar(&f.key, "tls-key", "", "TLS key (PEM)")
	fl.BoolVar(&f.self, "tls-self", false, "serve TLS with a certificate issued from the CA at start")
	fl.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback address")
	fl.DurationVar(&f.warnInterval, "warn-interval", time.Hour, "how often to send the expiry warnings due (with [smtp] configured)")
	f.agent.register(fl)
	return cmd
}

func (app *app) serve(cmd *cobra.Command, f serveFlags) error {
	c := app.cfg
	host, err := f.resolve(cmd, c)
	if err != nil {
		return err
	}
	days, err := app.warnDays() // the expiry warning schedule
	if err != nil {
		return err
	}
	useTLS := f.cert != "" || f.self
	app.log = slog.New(slog.NewTextHandler(app.stdio.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	metrics := web.NewMetrics(nil)
	app.observe = metrics.Observe
	ctx := cmd.Context()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	if f.publicURL != "" {
		app.ux.publicURL = f.publicURL
	}
	app.ux.defaultPublicURL = scheme + "://" + ln.Addr().String() // when no flag, config or setting gives one
	a, err := app.unlocked(ctx)
	if err != nil {
		return err
	}
	f.publicURL = app.cfg.PublicURL
	metrics.Watch(a)
	if n, err := a.EnsureAddresses(ctx); err != nil { // users from before fixed addresses
		app.log.Warn("giving users their fixed addresses", "err", err)
	} else if n > 0 {
		app.log.Info("gave users their fixed addresses", "count", n)
	}
	go a.KeepCRL(ctx, f.crlSync)
	go a.KeepServerCerts(ctx, authority.ServerRenewInterval) // renewed before they expire; agents install them
	var mailer authority.Mailer
	if c.SMTP.Enabled() {
		s, err := mail.NewSender(c.SMTP, app.log)
		if err != nil {
			return usageError{err}
		}
		mailer = s
		go a.KeepWarnings(ctx, mailer, days, f.warnInterval) // a pass now, then every --warn-interval
	}
	a.SetAlertMailer(mailer) // self-test alerts (issue 14)
	ws := web.New(web.Options{Authority: a, Mailer: mailer, Logger: app.log, Metrics: metrics})
	srv := &http.Server{
		Handler:           ws.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(app.log.Handler(), slog.LevelWarn),
	}
	run := func() error { return srv.Serve(ln) }
	if useTLS {
		if srv.TLSConfig, err = app.serveTLS(ctx, a, f, host); err != nil {
			return err
		}
		run = func() error { return srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	waitAgents, err := app.startAgents(ctx, stop, a, ws, f.agent, f.publicURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stdio.Out, "vpnkeys serving on %s://%s (links: %s/l/...)\n", scheme, ln.Addr(), f.publicURL)
	err = web.Serve(ctx, srv, run, 15*time.Second)
	stop()
	err = errors.Join(err, waitAgents())
	fmt.Fprintln(app.stdio.Out, "vpnkeys stopped")
	return err
}

// resolve applies the config file under the flags and refuses a bad
// combination before anything is opened; it returns the listen host.
func (f *serveFlags) resolve(cmd *cobra.Command, c config.Config) (string, error) {
	set := func(flag string, dst *string, v string) {
		if v != "" && !cmd.Flags().Changed(flag) {
			*dst = v
		}
	}
	set("listen", &f.listen, c.Listen)
	set("public-url", &f.publicURL, c.PublicURL)
	set("tls-cert", &f.cert, c.TLS.Cert)
	set("tls-key", &f.key, c.TLS.Key)
	set("agent-listen", &f.agent.listen, c.AgentListen)
	f.self = f.self || c.TLS.Self
	f.insecureHTTP = f.insecureHTTP || c.InsecureHTTP
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return "", usagef("--listen %q: want HOST:PORT", f.listen)
	}
	if f.crlSync <= 0 {
		return "", usagef("--crl-sync %s: want a positive duration", f.crlSync)
	}
	if f.warnInterval <= 0 {
		return "", usagef("--warn-interval %s: want a positive duration", f.warnInterval)
	}
	useTLS := f.cert != "" || f.self
	if (f.cert == "") != (f.key == "") {
		return "", usagef("--tls-cert and --tls-key go together")
	}
	if ip := net.ParseIP(host); !useTLS && !f.insecureHTTP && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", usagef("plain HTTP on %s: give --tls-cert/--tls-key or --tls-self, or --insecure-http", f.listen)
	}
	return host, f.agent.check()
}

// serveTLS is serve's TLS configuration: a certificate from the files
// given, or with --tls-self one from the CA for the public URL's host and
// the listen address, renewed while serving (tlsself.go).
func (app *app) serveTLS(ctx context.Context, a *authority.Authority, f serveFlags, host string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.self {
		hosts := selfHosts(host, f.publicURL)
		sc, err := newSelfCert(func() ([]byte, []byte, error) { return a.SelfTLS(ctx, hosts) }, time.Now, app.log)
		if err != nil {
			return nil, err
		}
		conf.GetCertificate = sc.GetCertificate
		return conf, nil
	}
	pair, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate: %w", err)
	}
	conf.Certificates = []tls.Certificate{pair}
	return conf, nil
}
