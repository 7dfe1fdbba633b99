package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
	"github.com/vpnkeys/vpnkeys/internal/mail"
)

// warnDays is the expiry warning schedule: VPNKEYS_WARN_DAYS ("30,7,1";
// "none" or "" for no user warnings), else the config file's warn_days
// (validated when loaded), else 30, 7 and 1 days.
func (app *app) warnDays() ([]int, error) {
	if v, ok := os.LookupEnv("VPNKEYS_WARN_DAYS"); ok {
		days, err := config.ParseWarnDays(v)
		if err != nil {
			return nil, usagef("VPNKEYS_WARN_DAYS %q: %v", v, err)
		}
		return days, nil
	}
	return app.cfg.WarnSchedule(), nil
}

// warningsCommand is `vpnkeys warnings`: the expiry warnings sent and due,
// and `warnings send` to run a pass now.
func (app *app) warningsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "warnings",
		Short: "List the expiry warnings mailed and the ones due next",
		Long: `warnings lists the expiry warnings recorded (user, certificate serial,
threshold in days, when it was mailed; "passed" marks a farther threshold a
catch-up recorded without a mail of its own; "digest" the admin's daily
digest), then the next warning each user certificate gets within 30 days.

serve sends them by itself (a pass at start, then every --warn-interval) when
[smtp] is configured: each user whose certificate ends within warn_days
(config or VPNKEYS_WARN_DAYS, default 30,7,1) gets one mail per threshold in
their language, with a one-time link that renews the access.`,
		Example: "  vpnkeys warnings\n  vpnkeys warnings --json\n  vpnkeys warnings send --dry-run",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 { // a parent: a word is a subcommand that does not exist
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			days, err := app.warnDays()
			if err != nil {
				return err
			}
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := a.Warnings(cmd.Context(), days)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, rep)
			}
			return app.printWarnings(rep)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(app.warningsSendCommand())
	return cmd
}

func (app *app) printWarnings(rep authority.WarningsReport) error {
	tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SENT\tUSER\tSERIAL\tDAYS\tSENT AT")
	for _, w := range rep.Sent {
		at := "sending"
		if !w.SentAt.IsZero() {
			at = w.SentAt.Format(time.DateTime)
		}
		switch {
		case w.Kind == "digest":
			fmt.Fprintf(tw, "digest\t-\t-\t-\t%s\n", at)
		case w.Passed:
			fmt.Fprintf(tw, "passed\t%s\t%s\t%d\t%s\n", w.User, w.Serial, w.Threshold, at)
		default:
			fmt.Fprintf(tw, "mailed\t%s\t%s\t%d\t%s\n", w.User, w.Serial, w.Threshold, at)
		}
	}
	fmt.Fprintln(tw, "\nNEXT\tUSER\tSERIAL\tDAYS\tDUE")
	for _, n := range rep.Next {
		what := "due"
		if n.NoEmail {
			what = "no email"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", what, n.User, n.Serial, n.Threshold, n.DueAt.Format(time.DateTime))
	}
	return tw.Flush()
}

func (app *app) warningsSendCommand() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Run one pass of expiry warnings now",
		Long: `send runs one pass of what serve does hourly: every user whose certificate
ends within warn_days gets the warning due (once per threshold), and the
admin the daily digest. --dry-run prints who would get what, and sends and
records nothing. SMTP comes from the config file's [smtp] section.`,
		Example: "  vpnkeys --config /etc/vpnkeys/vpnkeys.toml warnings send\n  vpnkeys warnings send --dry-run",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			days, err := app.warnDays()
			if err != nil {
				return err
			}
			if !app.cfg.SMTP.Enabled() {
				return usageError{authority.ErrNoMail}
			}
			ctx := withActor(cmd.Context())
			if dryRun {
				a, err := app.openExisting(ctx)
				if err != nil {
					return err
				}
				return app.warningsDryRun(cmd, a, days)
			}
			if app.cfg.PublicURL == "" {
				return errNoPublicURL
			}
			s, err := mail.NewSender(app.cfg.SMTP, app.log)
			if err != nil {
				return usageError{err}
			}
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			res, err := a.SendWarnings(ctx, s, days)
			fmt.Fprintf(app.stdio.Out, "warnings: %d mailed, %d failed, %d without email, %d by another instance; digest mailed: %t\n",
				res.Sent, res.Failed, res.Skipped, res.Others, res.Digest)
			return err
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print who would get what; send and record nothing")
	return cmd
}

// warningsDryRun prints the warnings and digest a pass would send.
func (app *app) warningsDryRun(cmd *cobra.Command, a *authority.Authority, days []int) error {
	items, err := a.PlanWarnings(cmd.Context(), days)
	if err != nil {
		return err
	}
	digest, err := a.DigestItems(cmd.Context(), days)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tTO\tLANG\tWARNING\tDAYS LEFT\tEXPIRES")
	for _, it := range items {
		to := it.Email
		if it.NoEmail {
			to = "(no email: skipped)"
		}
		w := fmt.Sprintf("%d days", it.Threshold)
		if len(it.Passed) > 0 {
			w += fmt.Sprintf(" (records %s as passed)", strings.Trim(fmt.Sprint(it.Passed), "[]"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", it.User, to, it.Lang, w, it.DaysLeft, it.NotAfter.Format(time.DateOnly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	admin := app.cfg.SMTP.Admin
	if admin == "" {
		admin = "(no smtp.admin: not sent)"
	}
	fmt.Fprintf(app.stdio.Out, "digest to %s: %d certificates expire soon (at most once a day)\n", admin, len(digest))
	return nil
}
