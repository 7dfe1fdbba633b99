package cli

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) dbCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Database operations"}
	var from, to string
	cp := &cobra.Command{
		Use:   "copy --from DSN --to DSN",
		Short: "Move a company between SQLite and PostgreSQL, verifying counts afterwards",
		Long: `db copy copies everything (CA, users, certificates, servers, links, tokens, audit
log, CRL) from one database into another that holds no CA yet, in one
transaction, then checks that every table has as many rows on both sides. A DSN
is a postgres:// URL or an SQLite file path.`,
		Example: "  vpnkeys db copy --from vpnkeys-data/vpnkeys.db --to postgres://vpnkeys@db/vpnkeys\n  vpnkeys db copy --from postgres://vpnkeys@db/vpnkeys --to /backup/vpnkeys.db",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("--from and --to are required")
			}
			counts, err := authority.CopyDatabase(withActor(cmd.Context()), from, to)
			if err != nil {
				return err
			}
			keys := make([]string, 0, len(counts))
			for k := range counts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(app.stdio.Out, "%-15s %d\n", k, counts[k])
			}
			fmt.Fprintln(app.stdio.Out, "copy verified: every table has as many rows as the source")
			return nil
		},
	}
	cp.Flags().StringVar(&from, "from", "", "source database")
	cp.Flags().StringVar(&to, "to", "", "destination database (no CA yet)")
	cmd.AddCommand(cp)
	return cmd
}
