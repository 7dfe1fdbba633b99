package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// expiringCommand is `vpnkeys expiring`: what ends soon, by date.
func (app *app) expiringCommand() *cobra.Command {
	var within string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "expiring",
		Short: "List the user, server and CA certificates that expire soon, by date",
		Long: `expiring lists the active certificates of users and servers, and the CA's,
that expire within --within (default 30d; units h, d, w), soonest first, with
the days left. Expired ones are not listed ('vpnkeys list --status expired').`,
		Example: "  vpnkeys expiring\n  vpnkeys expiring --within 2w\n  vpnkeys expiring --within 365d --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := authority.ParseWithin(within)
			if err != nil {
				return usageError{err}
			}
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			list, err := a.Expiring(cmd.Context(), d)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, list)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tSERIAL\tNOT AFTER\tDAYS LEFT")
			for _, v := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", v.Kind, v.Name, v.Serial, v.NotAfter.Format(time.DateOnly), v.DaysLeft)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&within, "within", "30d", "how far ahead to look: 12h, 30d, 2w")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// listWithin applies `list --within D`, which only --status expiring takes.
func listWithin(cmd *cobra.Command, f *authority.ListFilter, within string) error {
	if !cmd.Flags().Changed("within") {
		return nil
	}
	if f.Status != authority.StatusExpiring {
		return usagef("--within goes with --status expiring")
	}
	d, err := authority.ParseWithin(within)
	if err != nil {
		return usageError{err}
	}
	f.Within = d
	return nil
}
