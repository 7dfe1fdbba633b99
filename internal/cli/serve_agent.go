package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/web"
)

// agentFlags are serve's flags for the agent listener.
type agentFlags struct {
	listen string
	hosts  []string
}

// agentWriteTimeout lets a long-poll run its longest wait and answer.
const agentWriteTimeout = agentwire.MaxWait + 30*time.Second

func (f *agentFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.listen, "agent-listen", "", "also serve vpnkeys agents on this address (TLS, a certificate from the CA; agents join with a token of 'server enroll')")
	fl.StringSliceVar(&f.hosts, "agent-host", nil, "a name or address agents reach the agent listener by, for its certificate (repeatable; default: the listen host, this host's name, localhost, 127.0.0.1)")
}

// check refuses a bad --agent-listen before anything is opened.
func (f *agentFlags) check() error {
	if f.listen == "" {
		if len(f.hosts) > 0 {
			return usagef("--agent-host goes with --agent-listen")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return usagef("--agent-listen %q: want HOST:PORT", f.listen)
	}
	for _, h := range f.hosts {
		if h == "" || len(h) > 253 {
			return usagef("--agent-host %q: want a host name or an IP address", h)
		}
	}
	return nil
}

// agentHosts are the names the agent listener's certificate carries: those
// given, or the listen host (unless a wildcard), the public URL's host,
// this host's name, localhost and 127.0.0.1.
func agentHosts(listenHost, publicURL string, given []string) []string {
	if len(given) > 0 {
		return slices.Compact(given)
	}
	var hosts []string
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if ip := net.ParseIP(listenHost); ip == nil || !ip.IsUnspecified() {
		add(listenHost)
	}
	if u, err := url.Parse(publicURL); err == nil {
		add(u.Hostname())
	}
	if h, err := os.Hostname(); err == nil {
		add(h)
	}
	add("localhost")
	add("127.0.0.1")
	return hosts
}

// startAgents opens the agent listener (--agent-listen) and serves ws's
// AgentHandler on it, over TLS with a certificate from the CA, until ctx
// ends; a failure of that server calls stop, so serve as a whole ends.
// The returned wait reports how it ended. Without --agent-listen it does
// nothing.
func (app *app) startAgents(ctx context.Context, stop func(), a *authority.Authority, ws *web.Server, f agentFlags, publicURL string) (wait func() error, err error) {
	if f.listen == "" {
		return func() error { return nil }, nil
	}
	host, _, _ := net.SplitHostPort(f.listen)
	hosts := agentHosts(host, publicURL, f.hosts)
	sc, err := newSelfCert(func() ([]byte, []byte, error) { return a.SelfTLS(ctx, hosts) }, time.Now, app.log)
	if err != nil {
		return nil, fmt.Errorf("agent listener: %w", err)
	}
	// Both CA certificates during a rollover, followed while serving.
	trust := func() ([]byte, error) { return a.CATrustPEM(ctx) }
	conf, err := web.AgentTLSConfig(trust, sc.GetCertificate)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return nil, fmt.Errorf("listening for agents: %w", err)
	}
	srv := &http.Server{
		Handler:           ws.AgentHandler(),
		TLSConfig:         conf,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      agentWriteTimeout,
		IdleTimeout:       agentWriteTimeout,
		ErrorLog:          slog.NewLogLogger(app.log.Handler(), slog.LevelWarn),
		// Requests end with serve, so a shutdown does not wait out the
		// long-polls of every agent.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() {
		err := web.Serve(ctx, srv, func() error { return srv.Serve(tls.NewListener(ln, conf)) }, 15*time.Second)
		if err != nil {
			app.log.Error("agent listener stopped", "err", err)
			stop()
		}
		done <- err
	}()
	fmt.Fprintf(app.stdio.Out, "vpnkeys serving agents on https://%s (certificate for %v)\n", ln.Addr(), hosts)
	return func() error { return <-done }, nil
}
