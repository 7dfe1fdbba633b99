package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) crlCommand() *cobra.Command {
	var refresh, info bool
	cmd := &cobra.Command{
		Use:   "crl",
		Short: "Print the CRL, or re-sign and republish it",
		Long: `crl prints the current CRL as PEM. With --refresh it re-signs the CRL (a new
number, a new validity period) and rewrites crl.pem in the data folder and in
every server folder vpnkeys wrote on this machine; this needs the CA passphrase.`,
		Example: "  vpnkeys crl > crl.pem\n  vpnkeys crl --info\n  vpnkeys crl --refresh",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := withActor(cmd.Context())
			var c authority.CRLInfo
			if refresh {
				a, err := app.unlocked(ctx)
				if err != nil {
					return err
				}
				if c, err = a.RefreshCRL(ctx); err != nil {
					return err
				}
			} else {
				a, err := app.openExisting(ctx)
				if err != nil {
					return err
				}
				if c, err = a.CRL(ctx); err != nil {
					return err
				}
			}
			if info || refresh {
				fmt.Fprintf(app.stdio.Out, "CRL #%d: %d revoked, signed %s, valid until %s\n", c.Number, c.Revoked,
					c.ThisUpdate.Format(time.DateTime), c.NextUpdate.Format(time.DateTime))
				return nil
			}
			_, err := app.stdio.Out.Write(c.PEM)
			return err
		},
	}
	cmd.Flags().BoolVar(&refresh, "refresh", false, "re-sign the CRL and rewrite every crl.pem")
	cmd.Flags().BoolVar(&info, "info", false, "print the CRL's number, dates and size instead of PEM")
	return cmd
}
