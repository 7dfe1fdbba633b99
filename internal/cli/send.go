package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/mail"
)

func (app *app) sendCommand() *cobra.Command {
	var to string
	var attach bool
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "send USER",
		Short: "Mail a one-time download link to the employee (or to the admin)",
		Long: `send mails the employee a one-time, expiring link to their profile, with
instructions for their OS in their language; the key never travels by mail.
--to admin mails the link to the admin instead, as the old workflow did.
--attach (with --to admin) attaches the bundle, its key encrypted with a fresh
passphrase that is printed here and never mailed. SMTP comes from the config
file's [smtp] section. If the mail fails, the link is printed so nothing is lost.`,
		Example: "  vpnkeys --config /etc/vpnkeys/vpnkeys.toml send alice\n  vpnkeys --config vpnkeys.toml send bob --to admin --attach",
		Args:    exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != "user" && to != "admin" {
				return usagef("--to must be user or admin")
			}
			if !app.cfg.SMTP.Enabled() {
				return usageError{authority.ErrNoMail}
			}
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			if app.cfg.PublicURL == "" && !attach {
				return errNoPublicURL
			}
			s, err := mail.NewSender(app.cfg.SMTP, app.log)
			if err != nil {
				return usageError{err}
			}
			res, err := a.Send(ctx, s, authority.SendRequest{User: args[0], ToAdmin: to == "admin", Attach: attach, LinkTTL: ttl})
			if res.Link.URL != "" && err != nil {
				fmt.Fprintf(app.stdio.Out, "link (hand it over another way): %s\n", res.Link.URL)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "mailed %s to %s\n", args[0], res.To)
			if res.Passphrase != "" {
				fmt.Fprintf(app.stdio.Out, "the key in the attachment is encrypted; give %s this passphrase another way: %s\n", args[0], res.Passphrase)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "user", "recipient: user or admin")
	cmd.Flags().BoolVar(&attach, "attach", false, "attach the bundle (key encrypted) to the admin's mail")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "link lifetime (default from the config, 72h)")
	return cmd
}

func (app *app) linkCommand() *cobra.Command {
	var ttl time.Duration
	return &cobra.Command{
		Use:     "link USER",
		Short:   "Print a one-time download link to hand over yourself",
		Example: "  vpnkeys --config vpnkeys.toml link alice\n  vpnkeys --public-url https://vpn.example.com link alice",
		Args:    exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if app.cfg.PublicURL == "" {
				return errNoPublicURL
			}
			l, err := a.CreateLink(ctx, args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "%s (expires %s)\n", l.URL, l.ExpiresAt.Format(time.DateTime))
			return nil
		},
	}
}

func (app *app) auditCommand() *cobra.Command {
	var f authority.AuditFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "audit",
		Short:   "Show the audit log: who changed what, when, from where",
		Example: "  vpnkeys audit\n  vpnkeys audit --target alice --limit 20\n  vpnkeys audit --action user.revoke --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			evs, err := a.Audit(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if evs == nil {
					evs = []authority.AuditView{}
				}
				return writeJSON(app, evs)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tACTOR\tFROM\tACTION\tTARGET\tDETAIL")
			for _, e := range evs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.DateTime), e.Actor, e.Source, e.Action, e.Target, e.DetailText())
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.Target, "target", "", "only events about this user, server or token")
	cmd.Flags().StringVar(&f.Action, "action", "", "only this action, e.g. user.revoke")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "at most this many events")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
