package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// Stdio is where a run reads and writes.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// app is one run's state: flags, the open database and the service.
type app struct {
	stdio Stdio

	dataDir   string
	dsn       string
	passFile  string
	templates string
	company   string
	contact   string
	verbose   bool
	cfgPath   string
	cfg       config.Config
	// crlDays and agentRunDir: env VPNKEYS_CRL_DAYS and
	// VPNKEYS_AGENT_RUN_DIR, else the config file's crl_days and
	// agent_run_dir, else the service's defaults (0, "").
	crlDays     int
	agentRunDir string

	log     *slog.Logger
	db      *authority.Database
	auth    *authority.Authority
	observe func(op string, took time.Duration, err error) // set by serve, for metrics
	ux      uxState                                        // settings.go
}

// Run runs vpnkeys with args and returns the exit code.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	app := &app{stdio: stdio}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if app.db != nil {
		app.db.Close()
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown command") {
			err = usageError{err} // cobra's own, untyped
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", errCanceled, err)
		}
		var probs interface{ Lines() []string }
		if errors.As(err, &probs) {
			// One line per problem, each naming its file and line.
			for _, p := range probs.Lines() {
				fmt.Fprintln(stdio.Err, "vpnkeys: "+oneLine(errors.New(p)))
			}
		} else {
			fmt.Fprintln(stdio.Err, "vpnkeys: "+oneLine(err))
		}
		if h := hint(err); h != "" {
			fmt.Fprintln(stdio.Err, h)
		}
		var ue usageError
		if errors.As(err, &ue) && strings.Contains(err.Error(), "USER") {
			fmt.Fprintln(stdio.Err, "Run 'vpnkeys --help' for usage.")
		}
	}
	return exitCode(err)
}

// oneLine keeps an error on one line, whatever it wraps.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (app *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vpnkeys",
		Short: "Give remote employees OpenVPN access, and take it away",
		Long: `vpnkeys runs a company's OpenVPN PKI: it issues each employee a certificate and
a ready-to-use bundle (inline profile, split files, install instructions in their
language), writes every server's files, and revokes access everywhere at once.

State lives in an SQLite database in the data folder (--data, default
./vpnkeys-data) or in PostgreSQL (--db postgres://...).`,
		Example: `  vpnkeys init
  vpnkeys server add dc1 --remote vpn1.example.com:1194/udp
  vpnkeys server files dc1 --out /etc/openvpn/server
  vpnkeys add alice --email alice@example.com --os macos --lang fr
  vpnkeys revoke alice --reason key-compromise`,
		Version:           versionLine(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return app.setup(cmd) },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&app.dataDir, "data", env("VPNKEYS_DATA", "vpnkeys-data"), "data folder (env VPNKEYS_DATA)")
	pf.StringVar(&app.dsn, "db", os.Getenv("VPNKEYS_DB"), "database: postgres://... or an SQLite file (default DATA/vpnkeys.db; env VPNKEYS_DB)")
	pf.StringVar(&app.passFile, "passphrase-file", os.Getenv("VPNKEYS_PASSPHRASE_FILE"), "read the CA passphrase from this file, - for stdin (or set "+EnvPassphrase+")")
	pf.StringVar(&app.templates, "templates", os.Getenv("VPNKEYS_TEMPLATES"), "templates folder overriding the built-in ones (env VPNKEYS_TEMPLATES)")
	pf.StringVar(&app.company, "company", os.Getenv("VPNKEYS_COMPANY"), "company name shown in profiles and readmes (env VPNKEYS_COMPANY)")
	pf.StringVar(&app.contact, "contact", os.Getenv("VPNKEYS_CONTACT"), "whom employees should ask, shown in readmes (env VPNKEYS_CONTACT)")
	pf.BoolVarP(&app.verbose, "verbose", "v", false, "log what happens")
	pf.StringVar(&app.cfgPath, "config", os.Getenv("VPNKEYS_CONFIG"), "configuration file (TOML; env VPNKEYS_CONFIG); flags and environment win over it")
	root.AddCommand(app.initCommand(), app.addCommand(), app.listCommand(), app.showCommand(),
		app.revokeCommand(), app.renewCommand(), app.crlCommand(), app.serverCommand(),
		app.importCommand(), app.exportCommand(), app.serveCommand(), app.tokenCommand(), app.sendCommand(),
		app.linkCommand(), app.auditCommand(), app.configCommand(), app.dbCommand(), app.adminCommand(),
		app.backupCommand(), app.restoreCommand(), app.genManCommand())
	app.addCommands(root)
	app.addCompletions(root)
	guardParents(root)
	return root
}

// setup validates global flags and reads the config file; it opens nothing.
func (app *app) setup(cmd *cobra.Command) error {
	level := slog.LevelWarn
	if app.verbose {
		level = slog.LevelInfo
	}
	app.log = slog.New(slog.NewTextHandler(app.stdio.Err, &slog.HandlerOptions{Level: level}))
	if app.cfgPath == "" {
		app.cfgPath = findConfig()
	}
	if app.cfgPath != "" {
		c, err := config.Load(app.cfgPath)
		if err != nil {
			return usageError{err}
		}
		if err := c.Validate(); err != nil {
			return usageError{fmt.Errorf("config %s: %w", app.cfgPath, err)}
		}
		if err := c.LoadSecrets(); err != nil {
			return err
		}
		app.cfg = c
		// The file fills what neither a flag nor the environment set.
		fill := func(flag, env string, dst *string, v string) {
			if v != "" && !cmd.Flags().Changed(flag) && os.Getenv(env) == "" {
				*dst = v
			}
		}
		fill("data", "VPNKEYS_DATA", &app.dataDir, c.Data)
		fill("db", "VPNKEYS_DB", &app.dsn, c.DB)
		fill("company", "VPNKEYS_COMPANY", &app.company, c.Company)
		fill("contact", "VPNKEYS_CONTACT", &app.contact, c.Contact)
		fill("templates", "VPNKEYS_TEMPLATES", &app.templates, c.Templates)
	}
	if err := app.agentSettings(); err != nil {
		return err
	}
	if err := app.certDaysSetting(); err != nil {
		return err
	}
	if app.dataDir == "" {
		return usagef("--data must not be empty")
	}
	if app.dsn == "" {
		app.dsn = filepath.Join(app.dataDir, "vpnkeys.db")
	}
	return nil
}

// agentSettings reads the CRL lifetime and the agent's run folder from
// the environment, or else the config file (already validated).
func (app *app) agentSettings() error {
	app.crlDays, app.agentRunDir = app.cfg.CRLDays, app.cfg.AgentRunDir
	if v := os.Getenv("VPNKEYS_CRL_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			err = config.ValidCRLDays(n)
		}
		if err != nil {
			return usagef("VPNKEYS_CRL_DAYS %q: want 1 to %d days", v, config.MaxCRLDays)
		}
		app.crlDays = n
	}
	if v := os.Getenv("VPNKEYS_AGENT_RUN_DIR"); v != "" {
		if err := ovpn.ValidRunDir(v); err != nil {
			return usageError{fmt.Errorf("VPNKEYS_AGENT_RUN_DIR: %w", err)}
		}
		app.agentRunDir = v
	}
	return nil
}

// configSearch is where the CLI looks for a configuration file when
// neither --config nor VPNKEYS_CONFIG names one, first match wins (as
// headscale does): so `vpnkeys list` on a host where the Debian package
// runs the service finds the service's database.
var configSearch = []string{"vpnkeys.toml", "/etc/vpnkeys/vpnkeys.toml"}

// findConfig returns the first file of configSearch that exists, or "".
func findConfig() string {
	for _, p := range configSearch {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// errNoData is what a command that needs existing data says in a folder
// without any.
var errNoData = errors.New("no vpnkeys data")

// openExisting opens the service on a database that must exist already:
// commands that only read, or that need the CA, never create one.
func (app *app) openExisting(ctx context.Context) (*authority.Authority, error) {
	if app.auth == nil && !authority.IsPostgres(app.dsn) {
		path := strings.TrimPrefix(app.dsn, "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, usageError{fmt.Errorf("%w in %s: run vpnkeys init, or give --data/--db/--config", errNoData, filepath.Dir(path))}
		}
	}
	return app.open(ctx)
}

// open opens the database and the service.
func (app *app) open(ctx context.Context) (*authority.Authority, error) {
	if app.auth != nil {
		return app.auth, nil
	}
	if !authority.IsPostgres(app.dsn) {
		if err := os.MkdirAll(app.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data folder: %w", err)
		}
	}
	db, err := authority.OpenDatabase(ctx, app.dsn)
	if err != nil {
		return nil, err
	}
	app.db = db
	if err := app.applySettings(ctx); err != nil {
		return nil, err
	}
	app.auth = db.Service(authority.Options{LeafDays: app.ux.certDays,
		Logger: app.log, DataDir: app.dataDir, Templates: app.templates,
		Company: app.company, Contact: app.contact,
		PublicURL: app.cfg.PublicURL, LinkTTL: app.cfg.LinkTTL.Duration, Observe: app.observe,
		CRLDays: app.crlDays, AgentRunDir: app.agentRunDir, OnRefresh: app.refreshPrinter(),
	})
	return app.auth, nil
}

// unlocked opens the service and unlocks the CA.
func (app *app) unlocked(ctx context.Context) (*authority.Authority, error) {
	a, err := app.openExisting(ctx)
	if err != nil {
		return nil, err
	}
	need, err := a.NeedsPassphrase(ctx)
	if err != nil {
		return nil, err
	}
	var pass []byte
	if need {
		if pass, err = app.passphrase(false); err != nil {
			return nil, err
		}
	}
	if err := a.Unlock(ctx, pass); err != nil {
		return nil, err
	}
	return a, nil
}

// withActor tags the context with the local user for the audit log.
func withActor(ctx context.Context) context.Context {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = fmt.Sprint(os.Getuid())
		}
	}
	host, _ := os.Hostname()
	return authority.WithActor(ctx, authority.Actor{Name: "cli:" + name, Source: "host " + host})
}

// exactArgs and minArgs give usage errors that name what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("missing %s", what)
		}
		return nil
	}
}
