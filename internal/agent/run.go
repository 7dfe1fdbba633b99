package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// Defaults of Config.
const (
	DefaultReportInterval = 10 * time.Second
	DefaultSweepInterval  = 5 * time.Second
	// CRLWarnBefore is how long before the held CRL's nextUpdate the agent
	// warns: past it, OpenVPN refuses every login.
	CRLWarnBefore = 3 * 24 * time.Hour
	// resyncEvery is how often the agent asks for the state from version
	// 0, a safety net against a control plane whose version went back
	// (a database restored from a backup).
	resyncEvery = 10 * time.Minute
	backoffMin  = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// Config is what `vpnkeys agent run` is given.
type Config struct {
	StateDir       string // --state: what Join wrote, and state.json
	Dir            string // --dir: the OpenVPN server's folder
	Management     string // --management: the socket; "" reads server.conf's management line
	RestartCommand string // --restart-command, run with sh -c
	RestartTimeout time.Duration
	ReportInterval time.Duration // --report-interval
	SweepInterval  time.Duration // how often sessions are checked without a new state
	Wait           time.Duration // long-poll wait (default agentwire.DefaultWait)
	MetricsListen  string        // --metrics-listen ADDR, "" for none
	Nft            string        // --nft: the nft binary; "" looks it up when a state has a ruleset
	Logger         *slog.Logger
	AgentVersion   string

	// RestartWindow is --restart-window HH:MM-HH:MM (local time): restarts
	// wait for it ("" restarts at once); Now is the clock of the window
	// (time.Now when nil). restart_window.go.
	RestartWindow string
	Now           func() time.Time
	// Self-test (selftest.go): how often (0: never), the openvpn binary
	// ("" looks up openvpn) and each probe's timeout (0: the default).
	SelfTestInterval time.Duration
	SelfTestTimeout  time.Duration
	OpenVPN          string

	renewRetry time.Duration // first backoff after a failed renewal (renew.go); 0: renewRetryMin
}

// runner is one running agent.
type runner struct {
	cfg     Config
	log     *slog.Logger
	client  *Client
	applier *Applier
	m       *metrics
	kick    chan struct{}
	reports chan agentwire.Report

	mu        sync.Mutex // held across an apply and a sweep
	st        agentwire.State
	have      bool
	seen      int64 // the newest version received, applied or rejected
	appliedAt time.Time
	applyErr  string
	fwHash    string // SHA-256 of the ruleset in force ("" before one loaded)
	fwErr     string // why the state's ruleset is not in force
	mgmtErr   string
	mgmtOK    bool
	sessions  []agentwire.Session
	kills     int64
	killed    map[uint64]time.Time
	crlWarned time.Time
	selfTest  *agentwire.SelfTest // the last self-test's result (selftest.go)
	renewErr  string              // why the agent certificate's renewal failed (renew.go)
}

// Run keeps the server's folder and sessions equal to the control plane's
// state until ctx ends. It applies the saved state before any network
// access and keeps enforcing it while the control plane is away.
func Run(ctx context.Context, cfg Config) error {
	if cfg.StateDir == "" || cfg.Dir == "" {
		return fmt.Errorf("%w: both the state folder and the server folder are needed", ErrInvalid)
	}
	client, err := NewClient(cfg.StateDir)
	if err != nil {
		return err
	}
	defer client.Close()
	r := newRunner(cfg, client)
	if r.applier.Gate, err = restartGate(cfg); err != nil {
		return err
	}
	var ln net.Listener
	if cfg.MetricsListen != "" {
		if ln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return fmt.Errorf("%w: metrics address: %w", ErrInvalid, err)
		}
		srv := &http.Server{Handler: r.m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}
	r.start(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.poll(ctx) }()
	go func() { defer wg.Done(); r.reporter(ctx) }()
	wg.Add(2)
	go func() { defer wg.Done(); r.selfTestLoop(ctx) }()
	go func() { defer wg.Done(); r.renewLoop(ctx) }() // renews the agent certificate in time
	r.loop(ctx)
	wg.Wait()
	return nil
}

func newRunner(cfg Config, client *Client) *runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = DefaultReportInterval
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Wait <= 0 || cfg.Wait > agentwire.MaxWait {
		cfg.Wait = agentwire.DefaultWait
	}
	log := cfg.Logger.With("server", client.Identity().Server)
	return &runner{
		cfg: cfg, log: log, client: client, m: newMetrics(),
		applier: &Applier{Dir: cfg.Dir, RestartCommand: cfg.RestartCommand, RestartTimeout: cfg.RestartTimeout, Log: log},
		kick:    make(chan struct{}, 1), reports: make(chan agentwire.Report, 1),
		killed: map[uint64]time.Time{},
	}
}

// start applies the saved state, if any, and enforces it.
func (r *runner) start(ctx context.Context) {
	st, ok, err := loadState(r.cfg.StateDir)
	switch {
	case err != nil:
		r.log.Error("saved state unreadable, waiting for the control plane", "err", err)
	case !ok:
		r.log.Info("no saved state yet, waiting for the control plane")
	default:
		if err := Validate(st, r.client.Identity().Server); err != nil {
			r.log.Error("saved state not for this server or malformed, waiting for the control plane", "err", err)
		} else if err := r.take(ctx, st); err != nil {
			r.log.Error("applying saved state", "err", err)
		}
	}
	r.sweep(ctx)
}

// poll long-polls the control plane and applies each new state, with
// backoff and jitter while the control plane is unreachable or failing.
func (r *runner) poll(ctx context.Context) {
	delay := backoffMin
	lastFull := time.Now()
	for ctx.Err() == nil {
		r.mu.Lock()
		since := r.seen
		r.mu.Unlock()
		if time.Since(lastFull) > resyncEvery {
			since, lastFull = 0, time.Now()
		}
		asked := time.Now()
		st, changed, err := r.client.State(ctx, since, r.cfg.Wait)
		if err == nil {
			r.m.synced(time.Now())
			if changed {
				err = r.take(ctx, st)
			} else if time.Since(asked) < time.Second {
				sleep(ctx, backoffMin) // a 304 that did not wait: never spin
			}
		}
		if err == nil || errors.Is(err, ErrMalformedState) {
			delay = backoffMin
			continue
		}
		if ctx.Err() != nil {
			return
		}
		wait := delay/2 + rand.N(delay/2+1)
		r.log.Warn("control plane: retrying", "err", err, "in", wait.Round(10*time.Millisecond))
		delay = min(2*delay, backoffMax)
		sleep(ctx, wait)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// take validates and applies st (a no-op when its hash is the one
// applied), saves it, and asks for a sweep and a report. A malformed
// state is rejected whole; a failed apply leaves the previous one.
func (r *runner) take(ctx context.Context, st agentwire.State) error {
	defer r.wake()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := Validate(st, r.client.Identity().Server); err != nil {
		r.seen = max(r.seen, st.Version)
		return r.failed(err, st.Version)
	}
	if r.have && st.Hash == r.st.Hash {
		r.st.Version, r.seen, r.applyErr = st.Version, st.Version, ""
		r.m.version.Set(float64(st.Version))
		r.applyFirewall(ctx, st) // retried: nft may have been missing
		return nil
	}
	res, err := r.applier.Apply(ctx, st)
	if err != nil && !errors.Is(err, ErrRestart) {
		return r.failed(err, st.Version)
	}
	r.st, r.have, r.seen, r.appliedAt, r.applyErr = st, true, st.Version, time.Now(), ""
	r.m.version.Set(float64(st.Version))
	if err != nil {
		r.failed(err, st.Version) // the files are in place; the restart failed
	}
	r.applyFirewall(ctx, st)
	r.adoptCA(st) // a CA rollover's renewed certificate (ca_renewal.go)
	if serr := saveState(r.cfg.StateDir, st); serr != nil {
		r.log.Error("saving applied state", "err", serr)
	}
	r.log.Info("state applied", "version", st.Version, "changed", len(res.Changed), "removed", res.Removed, "restarted", res.Restarted, "restart_held", res.Deferred)
	r.checkCRL()
	return nil
}

// failed records an apply error for the metrics and the next report.
func (r *runner) failed(err error, version int64) error {
	r.m.applyErrors.Inc()
	r.applyErr = fmt.Sprintf("version %d: %v", version, err)
	r.log.Error("state not applied, the previous one stays in force", "version", version, "err", err)
	return err
}

// wake asks the loop for a sweep and a report now.
func (r *runner) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// loop sweeps sessions and queues reports until ctx ends.
func (r *runner) loop(ctx context.Context) {
	sweepT := time.NewTicker(r.cfg.SweepInterval)
	defer sweepT.Stop()
	reportT := time.NewTicker(r.cfg.ReportInterval)
	defer reportT.Stop()
	windowT := time.NewTicker(windowCheck)
	defer windowT.Stop()
	r.queueReport()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweepT.C:
			r.sweep(ctx)
		case <-reportT.C:
			r.mu.Lock()
			r.checkCRL()
			r.mu.Unlock()
			r.queueReport()
		case <-r.kick:
			r.sweep(ctx)
			r.queueReport()
		case <-windowT.C:
			r.restartIfDue(ctx)
		}
	}
}

// sweep ends the sessions the applied state says must end.
func (r *runner) sweep(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.have {
		return
	}
	conf := readServerConf(r.cfg.Dir)
	if r.cfg.Management != "" {
		conf.socket = r.cfg.Management
	}
	var sw sweep
	err := ErrNoManagement
	var dirErr error
	if conf.socket != "" {
		// A session folder that cannot be prepared loses the serials
		// (sessions of refused users still end); it never stops a kill.
		dirErr = prepareRunDir(conf)
		sw, err = enforce(ctx, conf, r.st, r.killed, r.log)
	}
	r.kills += int64(sw.killed)
	r.m.kills.Add(float64(sw.killed))
	if dirErr != nil {
		err = oneLine(err, dirErr)
	}
	if err != nil && ctx.Err() == nil && err.Error() != r.mgmtErr {
		r.log.Warn("management interface or session folder", "err", err)
	}
	if err != nil {
		r.mgmtErr = err.Error()
	} else {
		r.mgmtErr = ""
	}
	if !sw.ok {
		r.mgmtOK, r.sessions = false, nil
		r.m.sessions.Set(0)
		return
	}
	r.mgmtOK, r.sessions = true, sw.sessions
	r.m.sessions.Set(float64(len(sw.sessions)))
}

// oneLine joins errors on one line, for a report.
func oneLine(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}
