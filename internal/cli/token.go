package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (app *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API bearer tokens"}
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Make an API token; it is printed once and stored only hashed",
		Example: "  vpnkeys token create ci\n  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/api/v1/users",
		Args:    exactArgs(1, "one token NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			tok, err := a.CreateToken(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(app.stdio.Out, tok)
			return nil
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API token at once",
		Args:  exactArgs(1, "one token NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := a.RevokeToken(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "token %s revoked\n", args[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List API tokens",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			toks, err := a.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCREATED\tLAST USED\tREVOKED")
			day := func(s int64) string {
				if s == 0 {
					return "-"
				}
				return time.Unix(s, 0).UTC().Format(time.DateTime)
			}
			for _, t := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, day(t.CreatedAt), day(t.LastUsed), day(t.RevokedAt))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(create, revoke, list)
	return cmd
}
