package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Adopt an existing PKI or a roster of users",
	}
	var taKey string
	var dryRun bool
	var tm importTLS
	er := &cobra.Command{
		Use:   "easyrsa PKI_DIR",
		Short: "Adopt an easy-rsa 3 PKI: every certificate, revocation and key kept, nobody re-issued",
		Long: `import easyrsa reads an easy-rsa 3.0/3.1 PKI folder (the one with ca.crt,
index.txt, issued/, private/) into an empty vpnkeys database. Certificates keep
their serials, dates and status; revoked ones stay revoked and are in the next
CRL; client keys found in private/ are kept (sealed) so 'vpnkeys add USER'
re-renders that user's bundle without re-issuing. The CA passphrase is asked
(or read as for init) only when ca.key is encrypted, and stays the same.

A user easy-rsa left with several valid certificates (3.1's renew keeps the
old one valid) keeps the newest; each older one still valid is put on the CRL
as superseded, one line each in the output, so revoking the user later leaves
nothing of theirs that connects.

Only regular files are read: a symbolic link, FIFO or device in the PKI is a
problem, as is a certificate, key or request over 1 MiB or an index.txt or
crl.pem over 64 MiB. Everything is checked before anything is written, and
every problem is reported with its file and line; either all of it lands or
nothing does.

The old setup's control channel is detected from its OpenVPN configurations:
the folders given with --openvpn-dir (gen.sh's distribution folder,
/etc/openvpn/server), the folder of --ta-key and the templates folder. A
client config with 'tls-auth ta.key 1' or key-direction, or a server config
with tls-auth, makes servers registered afterwards tls-auth (the setting
tls_mode) with that ta.key as the static key, so the old clients keep
connecting; --tls-mode overrides the detection. The output says which mode
was chosen and why.`,
		Example: `  vpnkeys import easyrsa /home/ca/easy-rsa-master/easyrsa3/pki --ta-key /etc/openvpn/server/ta.key
  vpnkeys import easyrsa ./pki --dry-run
  vpnkeys import easyrsa ./pki --openvpn-dir /home/ca/cert_generation/user_distr`,
		Args: exactArgs(1, "one PKI_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tm.check(); err != nil {
				return err
			}
			return app.importEasyRSA(cmd, args[0], taKey, dryRun, tm)
		},
	}
	er.Flags().StringVar(&taKey, "ta-key", "", "the servers' ta.key (OpenVPN static key) to keep using")
	er.Flags().BoolVar(&dryRun, "dry-run", false, "check and print what would be imported, change nothing")
	tm.flags(er)
	cmd.AddCommand(er, app.importUsersCommand())
	return cmd
}

// importEasyRSA runs import easyrsa on the PKI in dir.
func (app *app) importEasyRSA(cmd *cobra.Command, dir, taKey string, dryRun bool, tm importTLS) error {
	ctx := withActor(cmd.Context())
	if _, err := os.Stat(dir); err != nil {
		return usagef("PKI_DIR: %v", err)
	}
	var ta []byte
	if taKey != "" {
		var err error
		if ta, err = readBounded(taKey, maxTAKey); err != nil {
			return usagef("--ta-key: %v", err)
		}
	}
	a, err := app.open(ctx)
	if err != nil {
		return err
	}
	ask := func() (authority.Passphrase, error) { return app.passphrase(false) }
	sum, err := a.ImportEasyRSA(ctx, dir, authority.ImportOptions{AskPassphrase: ask, TLSCrypt: ta, DryRun: dryRun,
		TLSMode: tm.mode, ConfigDirs: tm.dirs(taKey, app.templates)})
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
	for _, r := range sum.Retired {
		fmt.Fprintln(app.stdio.Out, retiredLine(r, dryRun))
	}
	printImportTLS(app, sum, dryRun)
	if sum.NewTLSCrypt {
		fmt.Fprintln(app.stdio.Err, "warning: no --ta-key given: a new tls-crypt key was made; servers need the new ta.key (vpnkeys server files)")
	}
	return nil
}

// maxTAKey bounds --ta-key: an OpenVPN static key is under 1 KiB. The file
// may be a FIFO (a shell's <(...)), so it is read, not checked for type.
const maxTAKey = 1 << 20

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is over %d bytes", path, max)
	}
	return b, nil
}

// retiredLine tells what the import did (or would do) with one older
// certificate of a user.
func retiredLine(r authority.Retired, dryRun bool) string {
	verb := "revoked"
	if dryRun {
		verb = "would be revoked"
	}
	return fmt.Sprintf("%s: older certificate %s (valid until %s) %s as superseded; %s kept",
		r.User, r.Serial, r.NotAfter.UTC().Format(time.DateOnly), verb, r.Kept)
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
