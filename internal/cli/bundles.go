package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// bundlesCommand is `vpnkeys bundles`: the bundle folders on disk
// (authority/refresh.go).
func (app *app) bundlesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundles",
		Short: "Keep the users' bundle folders on disk in step with the servers and the CA",
	}
	refresh := &cobra.Command{
		Use:   "refresh",
		Short: "Re-render every bundle folder in DATA/bundles from the kept keys",
		Long: `bundles refresh re-renders the bundle folder (profiles, ca.crt, readme,
archives) of every user with access whose folder is in DATA/bundles, from the
kept key and certificate: nothing is issued, the key stays the same. Each
folder is replaced in one step; a user without a folder gets none.

server add, server remove, server set (--remote, --tls-mode) and ca rollover
start|finish do this themselves; run it by hand when they could not (the CA
passphrase was not at hand). It needs the CA passphrase, as renew does.
Employees holding a profile made before still need a new one: vpnkeys send
USER, or a link (vpnkeys link USER).`,
		Example: "  vpnkeys bundles refresh\n  VPNKEYS_CA_PASSPHRASE=... vpnkeys bundles refresh",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			res, err := a.RefreshBundles(ctx)
			if err == nil || len(res.Failed) > 0 {
				app.printRefresh(res, nil)
			}
			return err
		},
	}
	cmd.AddCommand(refresh)
	return cmd
}

// refreshPrinter is the authority's OnRefresh: printRefresh for a
// command, nothing for serve (which sets observe before it opens the
// service), where the authority's log line says it and stdout is no place
// for it.
func (app *app) refreshPrinter() func(authority.RefreshResult, error) {
	if app.observe != nil {
		return nil
	}
	return app.printRefresh
}

// printRefresh prints what a refresh of the bundle folders did in one
// line (Options.OnRefresh); err, the failure of some, goes to stderr.
func (app *app) printRefresh(res authority.RefreshResult, err error) {
	if res.Locked {
		fmt.Fprintf(app.stdio.Out, "%d bundles in %s still hold the previous profiles: re-render them with 'vpnkeys bundles refresh' (it needs the CA passphrase)\n",
			res.Pending, res.Dir)
		return
	}
	fmt.Fprintf(app.stdio.Out, "re-rendered %d bundles in %s\n", res.Refreshed, res.Dir)
	if err != nil {
		fmt.Fprintln(app.stdio.Err, "vpnkeys: warning: "+oneLine(err))
	}
}

// unlockForBundles unlocks the CA before a change of every profile when
// bundle folders would otherwise stay behind and a passphrase is at hand
// (file, credential, environment or terminal). Without one the change
// goes ahead and printRefresh says how to catch up.
func (app *app) unlockForBundles(ctx context.Context, a *authority.Authority) error {
	n, err := a.BundlesToRefresh(ctx)
	if err != nil || n == 0 {
		return err
	}
	need, err := a.NeedsPassphrase(ctx)
	if err != nil {
		return err
	}
	var pass []byte
	if need {
		p, err := app.passphrase(false)
		if errors.Is(err, errNoPassphrase) {
			return nil
		}
		if err != nil {
			return err
		}
		pass = p
	}
	return a.Unlock(ctx, pass)
}
