package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// tlsModeFlag adds --tls-mode to server add and server set.
func tlsModeFlag(cmd *cobra.Command, mode *string) {
	cmd.Flags().StringVar(mode, "tls-mode", "", "control channel: tls-crypt (default), tls-auth or tls-crypt-v2")
}

// checkTLSMode refuses an unknown --tls-mode before anything is opened.
func checkTLSMode(mode string) error {
	if mode == "" {
		return nil
	}
	if _, err := ovpn.ParseTLSMode(mode); err != nil {
		return usagef("--tls-mode: %v", err)
	}
	return nil
}

// printTLSModeSet says what a mode switch reaches: profiles are rendered
// from the database whenever they are handed out, so every one rendered
// from now on is grouped by the new modes; those already handed out keep
// the old key block and need a new download.
func printTLSModeSet(app *app, s authority.ServerView) {
	fmt.Fprintf(app.stdio.Out, "server %s: control channel now %s; agents install its files at once, "+
		"and every profile rendered from now on (vpnkeys add, renew, links) uses it: users need a new profile for this server\n", s.Name, s.TLSMode)
}
