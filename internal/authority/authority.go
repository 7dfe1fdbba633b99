package authority

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Options configure an Authority.
type Options struct {
	Logger  *slog.Logger
	Now     func() time.Time // the clock; time.Now when nil
	DataDir string           // where crl.pem and, by default, bundles go
	// Company and Contact appear in profiles, readmes and mails.
	Company string
	Contact string
	// LeafDays is the lifetime of user and server certificates (config
	// cert_days or the settings table); 0 is pki.DefaultLeafDays, which
	// alone may be cut at the CA's end (lifetime.go).
	LeafDays int
	// CRLDays is how long a CRL is valid (DefaultCRLDays when zero).
	// OpenVPN rejects every client once the CRL it reads has expired, so
	// serve re-signs it daily (SyncCRL), every revocation re-signs it, and
	// agents warn when the CRL they hold nears its end. A 10-year CRL
	// (3650) stays possible, as an explicit choice.
	CRLDays int
	// AgentRunDir is where server.conf puts the management socket
	// (AgentRunDir/NAME.sock) and vpnkeys-session.sh the session files
	// (AgentRunDir/NAME.sessions) of the agent; ovpn.DefaultRunDir when "".
	AgentRunDir string
	// Templates is the bundle templates folder; "" uses the built-ins.
	Templates string
	// PublicURL is where employees reach the link pages, e.g.
	// https://vpn.example.com (links are PublicURL/l/TOKEN).
	PublicURL string
	// LinkTTL is how long one-time links last; DefaultLinkTTL when zero.
	LinkTTL time.Duration
	// Observe, when set, is told how long each operation took and whether
	// it failed ("issue", "revoke", "mail", "link.redeem"), for metrics.
	Observe func(op string, took time.Duration, err error)
	// PasswordCheck, when set, is called as each admin password hash or
	// check starts, with how many run at that moment (itself included; at
	// most MaxPasswordChecks), for metrics and tests.
	PasswordCheck func(inFlight int)
	// Hostname identifies this machine in the record of server folders
	// written (for CRL refreshes); os.Hostname when empty.
	Hostname string
	// OnRefresh, when set, is told what the refresh of the bundle folders
	// after a change of every profile did (refresh.go), for the CLI to
	// print; it is not called when there was no folder to refresh.
	OnRefresh func(RefreshResult, error)
}

// Authority is the service. It is safe for concurrent use.
type Authority struct {
	db   *store.DB
	log  *slog.Logger
	now  func() time.Time
	opts Options

	mu       sync.RWMutex
	unlocked *unlockedCA
	tmpl     *bundle.Templates

	hub    *hub        // wakes WaitChange (hub.go)
	state  *stateCache // AgentState's cache (agent_state_build.go)
	alerts alerter     // self-test alert mail (selftest_results.go)
	probes probeCache  // agents' probe profiles (selftest_cache.go)
}

type unlockedCA struct {
	ca       *pki.CA
	sealer   *pki.Sealer
	tlsCrypt []byte // the OpenVPN static key file
	certPEM  []byte
	v2       *v2Key // the tls-crypt-v2 server key, once read (tlsmode.go); shared by copies
	// trustPEM is the ca.crt to render, read for one render or batch
	// (rollover.go: both certificates during a CA rollover); nil renders
	// certPEM.
	trustPEM []byte
}

// DefaultCRLDays is the CRL lifetime when Options.CRLDays is zero: long
// enough to outlive a weekend of the control plane being down, short
// enough that a CRL copied somewhere and forgotten stops being trusted.
const DefaultCRLDays = 30

// New returns an Authority over db.
func New(db *store.DB, opts Options) *Authority {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CRLDays <= 0 {
		opts.CRLDays = DefaultCRLDays
	}
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = DefaultLinkTTL
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.AgentRunDir == "" {
		opts.AgentRunDir = ovpn.DefaultRunDir
	}
	if opts.DataDir != "" {
		if abs, err := filepath.Abs(opts.DataDir); err == nil {
			opts.DataDir = abs
		}
	}
	return &Authority{db: db, log: opts.Logger, now: opts.Now, opts: opts, hub: newHub(), state: newStateCache()}
}

// BundleDir is where bundles go by default.
func (a *Authority) BundleDir() string { return filepath.Join(a.opts.DataDir, "bundles") }

// templates loads the bundle templates once.
func (a *Authority) templates() (*bundle.Templates, error) {
	a.mu.RLock()
	t := a.tmpl
	a.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	t, err := bundle.LoadTemplates(a.opts.Templates)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.tmpl = t
	a.mu.Unlock()
	return t, nil
}

func (a *Authority) ca() (*unlockedCA, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.unlocked == nil {
		return nil, ErrLocked
	}
	return a.unlocked, nil
}

// observe reports an operation to Options.Observe.
func (a *Authority) observe(op string, start time.Time, err error) {
	if a.opts.Observe != nil {
		a.opts.Observe(op, a.now().Sub(start), err)
	}
}

// ctxDone lets long loops stop early.
func ctxDone(ctx context.Context) error { return context.Cause(ctx) }

// Contact is whom employees should ask, as configured.
func (a *Authority) Contact() string { return a.opts.Contact }

// Company is the company name profiles, readmes and pages show.
func (a *Authority) Company() string { return a.opts.Company }
