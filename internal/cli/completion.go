package cli

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// userArgs and serverArgs name the commands whose arguments are user or
// server names, by command path.
var (
	userArgs   = []string{"vpnkeys add", "vpnkeys show", "vpnkeys revoke", "vpnkeys renew", "vpnkeys send", "vpnkeys link", "vpnkeys disconnect"}
	serverArgs = []string{"vpnkeys server files", "vpnkeys server enroll"}
)

// addCompletions teaches cobra's completion command (bash, zsh, fish)
// what vpnkeys' arguments and flag values are: user and server names from
// the database, opened read-only, and the fixed values of --os, --lang and
// --reason. It is wired here, after the tree is built, so the command
// files stay about their commands.
func (app *app) addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		for _, p := range userArgs {
			if p == path {
				c.ValidArgsFunction = app.completeNames(func(ctx context.Context, a *authority.Authority) ([]string, error) {
					users, _, err := a.List(ctx, authority.ListFilter{})
					names := make([]string, len(users))
					for i, u := range users {
						names[i] = u.Name
					}
					return names, err
				}, strings.HasSuffix(c.Use, "..."))
			}
		}
		for _, p := range serverArgs {
			if p == path {
				c.ValidArgsFunction = app.completeNames(func(ctx context.Context, a *authority.Authority) ([]string, error) {
					servers, err := a.Servers(ctx)
					names := make([]string, len(servers))
					for i, s := range servers {
						names[i] = s.Name
					}
					return names, err
				}, false)
			}
		}
		fixed := map[string][]string{"os": stringsOf(account.OSes), "lang": stringsOf(account.Langs), "reason": authority.Reasons()}
		for flag, values := range fixed {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func stringsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// completeNames completes names from the database. It opens the database
// read-only and only when it exists, and offers nothing on any error: a
// completion must never create, migrate or lock a database, nor print.
func (app *app) completeNames(names func(context.Context, *authority.Authority) ([]string, error), many bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 && !many {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// The root's PersistentPreRunE ran for cobra's __complete command,
		// before this command's flags were parsed: set up again with them.
		if !cmd.Flags().Changed("db") {
			app.dsn = os.Getenv("VPNKEYS_DB")
		}
		if err := app.setup(cmd); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		db, err := authority.OpenDatabaseReadOnly(ctx, app.dsn)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer db.Close()
		all, err := names(ctx, db.Service(authority.Options{Logger: app.log, DataDir: app.dataDir}))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		taken := map[string]bool{}
		for _, a := range args {
			taken[a] = true
		}
		slices.Sort(all)
		var out []cobra.Completion
		for _, n := range all {
			if strings.HasPrefix(n, toComplete) && !taken[n] {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
