package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/agent"
)

// agentCommand is `vpnkeys agent join|run`: the process beside each
// OpenVPN server. It needs no database: it talks to vpnkeys serve's agent
// listener only.
func (app *app) agentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Keep an OpenVPN server's files and sessions current (runs on the OpenVPN host)",
		Long: `The vpnkeys agent runs beside an OpenVPN server. It joins the control plane
once with a token from 'vpnkeys server enroll', then keeps the server's files
and CRL equal to the control plane's state and ends revoked users' sessions
through OpenVPN's management socket.`,
	}
	cmd.AddCommand(app.agentJoinCommand(), app.agentRunCommand())
	return cmd
}

func (app *app) agentJoinCommand() *cobra.Command {
	var tokenFile, state string
	cmd := &cobra.Command{
		Use:   "join URL --token-file FILE --state DIR",
		Short: "Enroll this host's agent: key made here, certificate from the control plane",
		Long: `join makes a P-256 key on this host (it never leaves it), sends a certificate
request with the one-time token to the control plane's agent listener, and
trusts that listener only if it presents the CA whose fingerprint the token
carries. It writes agent.key (0600), agent.crt, ca.crt and agent.json into
the state folder (0700).`,
		Example: `  vpnkeys server enroll dc1 --token-file dc1.token      # on the control plane
  vpnkeys agent join https://vpnkeys.example.com:8443 --token-file dc1.token --state /var/lib/vpnkeys-agent`,
		Args: exactArgs(1, "the control plane URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if state == "" {
				return usagef("--state is required: the folder where the agent keeps its key and state")
			}
			if tokenFile == "" {
				return usagef("--token-file is required: the file holding the join token of 'vpnkeys server enroll'")
			}
			if _, err := agent.ParseURL(args[0]); err != nil {
				return usageError{err}
			}
			tok, err := readTokenFile(tokenFile, app.stdio.In)
			if err != nil {
				return err
			}
			id, err := agent.Join(cmd.Context(), args[0], tok, state, app.log)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "joined as the agent of server %s; next: vpnkeys agent run --state %s --dir /etc/openvpn/server\n", id.Server, state)
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the join token (- for stdin); the token never goes on the command line")
	cmd.Flags().StringVar(&state, "state", "", "state folder (e.g. /var/lib/vpnkeys-agent)")
	return cmd
}

// readTokenFile reads a join token from a file or stdin; the token itself
// never appears in an error.
func readTokenFile(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", usagef("reading --token-file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", usagef("--token-file %s is empty", path)
	}
	return tok, nil
}

func (app *app) agentRunCommand() *cobra.Command {
	cfg := agent.Config{}
	cmd := &cobra.Command{
		Use:   "run --state DIR --dir DIR",
		Short: "Keep this OpenVPN server current and end revoked users' sessions",
		Long: `run applies the last state it saved (state.json) at once, before it contacts
the control plane, then long-polls the control plane and applies each new
state whole: files written and fsynced first, then renamed into place.
A change of server.conf, ca.crt, server.crt, server.key, ta.key or
tls-crypt-v2-server.key runs --restart-command; a new crl.pem or
revoked-serials (the tls-crypt-v2 verify script's list) never does. Sessions of revoked
certificates end through the management socket (client-kill with HALT).
Each user's client-config file goes to ccd/ with the other files; the
firewall ruleset (table inet vpnkeys, nothing else) is loaded with
'nft -f' in one transaction: one the kernel refuses leaves the previous
one in force and is reported. When the control plane is away the agent
keeps enforcing the last state. With --restart-window HH:MM-HH:MM (local
time, may wrap midnight) the files are written at once but the restart waits
for the window, once for all changes meanwhile (kept across agent restarts);
it runs at once when the running server certificate would expire before the
window opens. 'vpnkeys server status' shows a restart pending.`,
		Example: `  vpnkeys agent run --state /var/lib/vpnkeys-agent --dir /etc/openvpn/server \
    --restart-command 'systemctl restart openvpn-server@server' --metrics-listen 127.0.0.1:9477`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.StateDir == "" {
				return usagef("--state is required: the folder 'vpnkeys agent join' wrote")
			}
			if cfg.Dir == "" {
				return usagef("--dir is required: the OpenVPN server's folder, e.g. /etc/openvpn/server")
			}
			if cfg.SelfTestInterval < 0 || cfg.SelfTestTimeout < 0 {
				return usagef("--selftest-interval and --selftest-timeout must not be negative")
			}
			if cfg.ReportInterval < time.Second {
				return usagef("--report-interval %v: want 1s or more", cfg.ReportInterval)
			}
			if _, err := agent.ParseWindow(cfg.RestartWindow); err != nil { // restart_window.go
				return usageError{err}
			}
			cfg.Logger = slog.New(slog.NewTextHandler(app.stdio.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
			cfg.AgentVersion = versionLine()
			err := agent.Run(cmd.Context(), cfg)
			if errors.Is(err, agent.ErrNotJoined) {
				return fmt.Errorf("%w; run vpnkeys agent join first", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.StateDir, "state", "", "state folder written by 'vpnkeys agent join'")
	f.StringVar(&cfg.Dir, "dir", "", "the OpenVPN server's folder")
	f.StringVar(&cfg.Management, "management", "", "management socket (default: server.conf's 'management PATH unix' line)")
	f.StringVar(&cfg.RestartCommand, "restart-command", "", "run with sh -c when server.conf or the server's keys change")
	f.DurationVar(&cfg.ReportInterval, "report-interval", agent.DefaultReportInterval, "how often to report sessions")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics on ADDR (/metrics)")
	f.StringVar(&cfg.RestartWindow, "restart-window", "", "restart OpenVPN only between HH:MM-HH:MM local time (e.g. 02:00-04:00; default: at once); a certificate about to expire restarts at once")
	f.StringVar(&cfg.Nft, "nft", "", "the nft binary that loads the firewall (default: nft on PATH, /usr/sbin/nft)")
	// The self-test (issue 14): probes connect to this server over loopback.
	f.DurationVar(&cfg.SelfTestInterval, "selftest-interval", agent.DefaultSelfTestInterval, "how often to run the self-test against this server (0 disables it)")
	f.DurationVar(&cfg.SelfTestTimeout, "selftest-timeout", 0, "how long each self-test probe may take (default 15s)")
	f.StringVar(&cfg.OpenVPN, "openvpn", "", "the openvpn binary the self-test runs (default: openvpn on PATH)")
	return cmd
}
