package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

func (app *app) firewallCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firewall",
		Short: "What each server enforces about who may reach what",
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show SERVER",
		Short: "Print the nftables ruleset and client-config files a server gets (a dry run)",
		Long: `firewall show prints exactly what the agent of SERVER applies: the ruleset of
vpnkeys' own nftables table (loaded with nft -f as one transaction) and one
client-config file per user with an active certificate (ifconfig-push of their
fixed address, push "route ..." for their groups' destinations). Nothing is
applied or written.`,
		Example: "  vpnkeys firewall show dc1\n  vpnkeys firewall show dc1 --json",
		Args:    exactArgs(1, "one SERVER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			v, err := a.Firewall(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, v)
			}
			w := app.stdio.Out
			fmt.Fprintf(w, "# nftables ruleset of server %s\n%s", v.Server, v.Ruleset)
			users := make([]string, 0, len(v.CCD))
			for u := range v.CCD {
				users = append(users, u)
			}
			slices.Sort(users)
			for _, u := range users {
				fmt.Fprintf(w, "\n# client-config file ccd/%s\n%s", u, v.CCD[u])
			}
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(show)
	return cmd
}
