package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// caCommand is `vpnkeys ca`: the CA's certificate and its rollover
// (authority/rollover.go: the same key, a renewed certificate).
func (app *app) caCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Show the CA's certificate and renew it without locking anyone out (rollover)",
		Args:  exactArgs(0, "a subcommand: show or rollover"),
	}
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show the CA certificate's serial and dates, and a rollover under way",
		Example: "  vpnkeys ca show\n  vpnkeys ca show --json",
		Args:    exactArgs(0, "no arguments"),
	}
	var showJSON bool
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	show.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := app.openExisting(cmd.Context())
		if err != nil {
			return err
		}
		return app.printRollover(a.RolloverStatus(cmd.Context()))(showJSON)
	}
	roll := &cobra.Command{
		Use:   "rollover",
		Short: "Renew the CA certificate (same key) with an overlap in which both are trusted",
		Long: `rollover renews the CA's certificate before it expires, in three steps:

  start   makes a new certificate for the same key and subject (new serial,
          new validity; needs the CA passphrase). Profiles and bundles made
          from then on hold the old and the new certificate; the servers'
          ca.crt holds the new one (OpenVPN's server refuses two of one
          subject, and either admits every client), which each agent
          installs, restarting OpenVPN in its restart window.
  status  shows both certificates and how many agents hold the new ca.crt.
  finish  makes the new certificate the CA certificate; profiles made
          afterwards hold it alone.

The key does not change, so every certificate and CRL it signed verifies
under both certificates: nobody is re-issued anything and nobody is locked
out. Hand out new profiles before the old certificate's end: a profile that
holds only the old certificate stops working when it expires.`,
		Args: exactArgs(0, "a subcommand: start, status or finish"),
	}
	roll.AddCommand(app.rolloverStartCommand(), app.rolloverStatusCommand(), app.rolloverFinishCommand())
	cmd.AddCommand(show, roll)
	return cmd
}

func (app *app) rolloverStartCommand() *cobra.Command {
	var days int
	cmd := &cobra.Command{
		Use:     "start",
		Short:   "Make the CA's new certificate; ca.crt holds both from now on",
		Example: "  vpnkeys ca rollover start\n  vpnkeys ca rollover start --days 7300",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := authority.ValidCADays(days); err != nil {
				return usageError{err}
			}
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			// Refused before the passphrase is asked for.
			if st, err := a.RolloverStatus(ctx); err != nil {
				return err
			} else if st.UnderWay {
				return usagef("a CA rollover is under way already (started %s): run 'vpnkeys ca rollover finish' or see 'vpnkeys ca rollover status'", stamp(st.StartedAt))
			}
			if a, err = app.unlocked(ctx); err != nil {
				return err
			}
			return app.printRollover(a.StartRollover(ctx, days))(false)
		},
	}
	cmd.Flags().IntVar(&days, "days", authority.DefaultCADays, "the new certificate's lifetime in days, 1 to 36500")
	return cmd
}

func (app *app) rolloverStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the old and new CA certificates and how many agents hold both",
		Example: "  vpnkeys ca rollover status\n  vpnkeys ca rollover status --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			return app.printRollover(a.RolloverStatus(cmd.Context()))(asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (app *app) rolloverFinishCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "finish",
		Short:   "Make the new certificate the CA certificate; ca.crt holds it alone from now on",
		Example: "  vpnkeys ca rollover finish",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			if err := app.unlockForBundles(ctx, a); err != nil {
				return err
			}
			st, err := a.FinishRollover(ctx)
			if errors.Is(err, authority.ErrNoRollover) {
				return usagef("no CA rollover is under way: start one with 'vpnkeys ca rollover start'")
			}
			return app.printRollover(st, err)(false)
		},
	}
}

// printRollover prints a rollover state, as a table or JSON.
func (app *app) printRollover(v authority.RolloverView, err error) func(asJSON bool) error {
	return func(asJSON bool) error {
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(app, v)
		}
		writeRollover(app.stdio.Out, v)
		return nil
	}
}

func writeRollover(w io.Writer, v authority.RolloverView) {
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	fmt.Fprintf(w, "CA certificate:  serial %s, valid %s to %s\n", v.Current.Serial, day(v.Current.NotBefore), day(v.Current.NotAfter))
	if v.Next != nil {
		fmt.Fprintf(w, "new certificate: serial %s, valid %s to %s\n", v.Next.Serial, day(v.Next.NotBefore), day(v.Next.NotAfter))
		fmt.Fprintf(w, "rollover:        started %s\n", stamp(v.StartedAt))
	}
	fmt.Fprintf(w, "agents:          %d of %d hold the ca.crt written now\n", v.Updated, v.Agents)
	switch v.Step {
	case authority.StepWait:
		fmt.Fprintln(w, "next step:       wait until every agent holds both certificates (vpnkeys server status), hand out new profiles, then run 'vpnkeys ca rollover finish'")
	case authority.StepFinish:
		fmt.Fprintln(w, "next step:       hand out new profiles (they trust both), then run 'vpnkeys ca rollover finish'")
	default:
		fmt.Fprintln(w, "next step:       none; 'vpnkeys ca rollover start' renews the certificate before it ends")
	}
}
