package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
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
			ctx := withActor(cmd.Context())
			src, err := store.Open(ctx, from)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := store.Open(ctx, to)
			if err != nil {
				return err
			}
			defer dst.Close()
			if dst.Dialect() == store.Postgres {
				if err := checkPostgresText(ctx, src); err != nil {
					return err
				}
			}
			counts, err := store.Copy(ctx, src, dst)
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

// checkPostgresText finds the user whose free text PostgreSQL would refuse
// (invalid UTF-8 or a NUL byte, which an older vpnkeys let add --name store
// in SQLite), so the copy stops before it starts with a line that says
// what to fix, instead of halfway with the database's words.
func checkPostgresText(ctx context.Context, src *store.DB) error {
	users, err := src.Q().ListUsers(ctx, store.UserFilter{})
	if err != nil {
		return fmt.Errorf("checking users: %w", err)
	}
	for _, u := range users {
		for _, f := range []struct{ field, flag, v string }{{"full name", "--name", u.FullName}, {"email", "--email", u.Email}} {
			why := ""
			switch {
			case !utf8.ValidString(f.v):
				why = "not valid UTF-8"
			case strings.ContainsRune(f.v, 0):
				why = "holds a NUL byte"
			default:
				continue
			}
			return fmt.Errorf("%w: user %q: %s: %s, which PostgreSQL refuses; correct it in the source with vpnkeys add %s %s ..., then copy again",
				account.ErrInvalid, u.Name, f.field, why, u.Name, f.flag)
		}
	}
	return nil
}
