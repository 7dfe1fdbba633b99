package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// What the agents beside the OpenVPN servers report, and ending a user's
// sessions: `sessions`, `server status` and `disconnect`. None needs the
// CA passphrase.

// stamp prints a time for the tables: UTC, to the second, "-" when unset.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// humanBytes prints a byte count as 1.5MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (app *app) sessionsCommand() *cobra.Command {
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List who is connected where, as each server's agent last reported",
		Long: `sessions lists the live OpenVPN sessions that the vpnkeys agent beside each
server last reported (every few seconds, and on every change): the user, the
serial of the certificate the session uses ("-" when the agent does not know
it), the client's real address, its VPN address, the bytes it moved and when
it connected. A server whose agent never reported lists nothing; see
'vpnkeys server status'.`,
		Example: "  vpnkeys sessions\n  vpnkeys sessions --server dc1\n  vpnkeys sessions --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			list, err := a.Sessions(cmd.Context(), server)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, list)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVER\tUSER\tSERIAL\tREAL\tVPN\tIN\tOUT\tSINCE")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Server, s.User, orDash(s.Serial), orDash(s.RealAddress),
					orDash(s.VPNAddress), humanBytes(s.BytesIn), humanBytes(s.BytesOut), stamp(s.Since))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "only this server's sessions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.RegisterFlagCompletionFunc("server", app.completeNames(serverNames, false))
	return cmd
}

// serverNames lists the registered servers' names, for completion.
func serverNames(ctx context.Context, a *authority.Authority) ([]string, error) {
	servers, err := a.Servers(ctx)
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	return names, err
}

func (app *app) serverStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each server's agent: last seen, applied version, lag, CRL and its next update",
		Long: `server status lists every registered server with what its vpnkeys agent last
reported: whether an agent is enrolled and when its certificate ends (the
agent renews it before), when it last reported, the change
version it applied and how many versions it is behind (LAG), the number and
nextUpdate of the CRL it holds, and its last error. A CRL within 3 days of its
nextUpdate is flagged, and a warning is printed: once it lapses, OpenVPN
refuses every user.`,
		Example: "  vpnkeys server status\n  vpnkeys server status --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			list, err := a.AgentStatus(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, list)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVER\tAGENT\tAGENT-CERT-END\tLAST-SEEN\tVERSION\tLAG\tCRL\tNEXT-UPDATE\tERROR")
			for _, v := range list {
				fmt.Fprintln(tw, agentLine(v))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, l := range selfTestLines(list) { // selftest.go
				fmt.Fprintln(app.stdio.Out, l)
			}
			for _, v := range list {
				if v.CRLExpiring {
					fmt.Fprintf(app.stdio.Err, "vpnkeys: warning: the CRL %s's agent holds lapses at %s (within 3 days); OpenVPN then refuses every user: run 'vpnkeys crl --refresh' and check the agent\n",
						v.Server, stamp(v.CRLNextUpdate))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// agentLine is one row of `server status`, tab-separated.
func agentLine(v authority.AgentView) string {
	agent := "enrolled"
	if !v.Enrolled {
		agent = "not-enrolled"
	}
	certEnd := "-" // the agent renews its certificate before this day
	if !v.AgentCertNotAfter.IsZero() {
		certEnd = v.AgentCertNotAfter.UTC().Format(time.DateOnly)
	}
	if !v.Seen() {
		return fmt.Sprintf("%s\t%s\t%s\tnever\t-\t-\t-\t-\t-", v.Server, agent, certEnd)
	}
	next := stamp(v.CRLNextUpdate)
	if v.CRLExpiring {
		next += " (EXPIRING)"
	}
	crl := "-"
	if v.CRLNumber > 0 {
		crl = fmt.Sprintf("#%d", v.CRLNumber)
	}
	errText := v.Error
	if !v.Management {
		errText = joinNonEmpty("management socket not answering", errText)
	}
	if !v.RestartPending.IsZero() {
		errText = joinNonEmpty("restart pending since "+stamp(v.RestartPending), errText)
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s", v.Server, agent, certEnd, stamp(v.LastSeen), v.Version, v.Lag, crl, next, orDash(errText))
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

func (app *app) disconnectCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "disconnect USER...",
		Short: "End users' sessions on every server now, without revoking",
		Long: `disconnect asks the vpnkeys agent beside every server to end the users'
sessions that began until now (the client is told to stop, not to retry).
It revokes nothing: the users keep their certificates and may connect again;
'vpnkeys revoke' takes access away. It is recorded in the audit log
(user.disconnect). Every user must exist, or nothing is done.`,
		Example: "  vpnkeys disconnect alice\n  vpnkeys disconnect bob carol --reason \"laptop left unlocked\"",
		Args:    minArgs(1, "USER: name at least one user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, n := range args {
				if seen[n] {
					return usagef("user %s given twice", n)
				}
				seen[n] = true
				if _, err := a.Show(ctx, n); err != nil {
					return err
				}
			}
			for _, n := range args {
				res, err := a.Disconnect(ctx, n, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(app.stdio.Out, "%s: every server's agent asked to end their sessions (%d reported connected; change %d); %s keeps access\n",
					res.User, res.Sessions, res.Version, res.User)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, one line, kept in the audit log")
	return cmd
}
