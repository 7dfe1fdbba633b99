package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/easyrsa"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

func (app *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Adopt an existing PKI or a roster of users",
	}
	var taKey string
	var dryRun bool
	er := &cobra.Command{
		Use:   "easyrsa PKI_DIR",
		Short: "Adopt an easy-rsa 3 PKI: every certificate, revocation and key kept, nobody re-issued",
		Long: `import easyrsa reads an easy-rsa 3.0/3.1 PKI folder (the one with ca.crt,
index.txt, issued/, private/) into an empty vpnkeys database. Certificates keep
their serials, dates and status; revoked ones stay revoked and are in the next
CRL; client keys found in private/ are kept (sealed) so 'vpnkeys add USER'
re-renders that user's bundle without re-issuing. The CA passphrase is asked
(or read as for init) only when ca.key is encrypted, and stays the same.

Everything is checked before anything is written, and every problem is
reported with its file and line; either all of it lands or nothing does.`,
		Example: `  vpnkeys import easyrsa /home/ca/easy-rsa-master/easyrsa3/pki --ta-key /etc/openvpn/server/ta.key
  vpnkeys import easyrsa ./pki --dry-run`,
		Args: exactArgs(1, "one PKI_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			if _, err := os.Stat(args[0]); err != nil {
				return usagef("PKI_DIR: %v", err)
			}
			var ta []byte
			if taKey != "" {
				var err error
				if ta, err = os.ReadFile(taKey); err != nil {
					return usagef("--ta-key: %v", err)
				}
			}
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if ok, err := a.Initialized(ctx); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("%w: import needs an empty database", authority.ErrInitialized)
			}
			var pass pki.Passphrase
			p, err := easyrsa.Load(args[0], func() (pki.Passphrase, error) {
				pass, err = app.passphrase(false)
				return pass, err
			})
			if err != nil {
				return err
			}
			sum, err := a.ImportEasyRSA(ctx, p, authority.ImportOptions{Passphrase: pass, TLSCrypt: ta, DryRun: dryRun})
			for _, w := range sum.Warnings {
				fmt.Fprintln(app.stdio.Err, "warning: "+w)
			}
			if err != nil {
				return err
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(app.stdio.Out, "%s %d users: certificates: %d active, %d revoked, %d expired, %d superseded (%d of servers); %d keys kept\n",
				verb, sum.Users, sum.Active, sum.Revoked, sum.Expired, sum.Superseded, sum.Servers, sum.KeysKept)
			if sum.NewTLSCrypt {
				fmt.Fprintln(app.stdio.Err, "warning: no --ta-key given: a new tls-crypt key was made; servers need the new ta.key (vpnkeys server files)")
			}
			return nil
		},
	}
	er.Flags().StringVar(&taKey, "ta-key", "", "the servers' ta.key (OpenVPN static key) to keep using")
	er.Flags().BoolVar(&dryRun, "dry-run", false, "check and print what would be imported, change nothing")
	cmd.AddCommand(er, app.importUsersCommand())
	return cmd
}

func (app *app) exportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Give the PKI back in another tool's layout",
	}
	er := &cobra.Command{
		Use:   "easyrsa OUT_DIR",
		Short: "Write the PKI in easy-rsa 3.1's layout (easyrsa show-cert, revoke, gen-crl, build-client-full work on it)",
		Long: `export easyrsa writes the CA (its key encrypted under the same passphrase),
every certificate with its status, the current certificates' keys and the CRL
into OUT_DIR in easy-rsa 3.1's layout. Use it as EASYRSA_PKI.`,
		Example: "  vpnkeys export easyrsa /root/pki-backup\n  EASYRSA_PKI=/root/pki-backup /usr/share/easy-rsa/easyrsa show-cert alice",
		Args:    exactArgs(1, "one OUT_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			n, err := a.ExportEasyRSA(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "exported %d certificates to %s\n", n, args[0])
			return nil
		},
	}
	cmd.AddCommand(er)
	return cmd
}
