package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

func (app *app) serverEnrollCommand() *cobra.Command {
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "enroll NAME [--token-file FILE]",
		Short: "Make a one-time join token for the vpnkeys agent of a server",
		Long: `server enroll makes a join token for the agent beside server NAME's OpenVPN:
usable once, for one hour. Only a hash of it is stored. It carries the CA's
fingerprint, so the agent checks it talks to this control plane on its very
first contact. On the OpenVPN host:

  vpnkeys agent join https://CONTROL:PORT --token-file FILE --state /var/lib/vpnkeys-agent

where CONTROL:PORT is serve's --agent-listen address. Joining again later
(with a new token) replaces the agent's certificate; the old one is refused
from then on.

The token is printed on standard output, its expiry on standard error; with
--token-file it is written to FILE (mode 0600) instead, and only where it
went is printed.`,
		Example: "  vpnkeys server enroll dc1\n  vpnkeys server enroll dc1 --token-file /root/dc1.token",
		Args:    exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTokenFile(tokenFile); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			tok, err := a.EnrollServer(ctx, args[0])
			if err != nil {
				return err
			}
			expires := tok.Expires.Local().Format(time.DateTime + " MST")
			if tokenFile == "" {
				fmt.Fprintln(app.stdio.Out, tok.Token)
				fmt.Fprintf(app.stdio.Err, "join token for %s: usable once, until %s\n", tok.Server, expires)
				return nil
			}
			if err := safefile.WriteFile(tokenFile, []byte(tok.Token+"\n"), safefile.SecretMode); err != nil {
				return fmt.Errorf("writing the join token: %w", err)
			}
			fmt.Fprintf(app.stdio.Out, "join token for %s written to %s: usable once, until %s\n", tok.Server, tokenFile, expires)
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "write the token to this file (mode 0600) instead of printing it")
	return cmd
}

// checkTokenFile refuses, before any token is made, a --token-file that
// cannot be written: its folder missing, or a folder in its place.
func checkTokenFile(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef("--token-file %s is a folder: name a file", path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return usagef("--token-file %s: folder %s does not exist", path, filepath.Dir(path))
	}
	return nil
}
