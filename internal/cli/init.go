package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
)

type initFlags struct {
	algo         string
	cn           string
	days         int
	noPassphrase bool
	cmd          *cobra.Command // for the settings given as flags, kept at init
}

func (f *initFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.algo, "algo", "p256", "CA key algorithm: p256, p384, ed25519, rsa2048, rsa3072, rsa4096")
	cmd.Flags().StringVar(&f.cn, "cn", "", "CA common name (default \"COMPANY VPN CA\" or \"vpnkeys CA\")")
	cmd.Flags().IntVar(&f.days, "ca-days", authority.DefaultCADays, "CA lifetime in days")
	cmd.Flags().BoolVar(&f.noPassphrase, "no-passphrase", false, "store the CA key unencrypted (throwaway setups only)")
}

func (app *app) initCommand() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the company CA and tls-crypt key",
		Long: `init creates the CA (its key stored only encrypted under a passphrase) and
the tls-crypt key in the database. The passphrase is asked twice on a terminal,
or read from --passphrase-file or ` + EnvPassphrase + `.`,
		Example: `  vpnkeys init
  vpnkeys init --algo rsa3072 --company "Example Ltd"
  vpnkeys init --passphrase-file /root/ca.pass
  vpnkeys init --no-passphrase --data /tmp/throwaway`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := withActor(cmd.Context())
			if err := app.initCA(ctx, f); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "CA created in %s (%s)\n", app.dsnShown(), f.algo)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&f.days, "days", authority.DefaultCADays, "CA lifetime in days, 1 to 36500 (as easy-rsa's build-ca; same as --ca-days)")
	return cmd
}

func (app *app) initCA(ctx context.Context, f initFlags) error {
	algo, err := authority.ParseAlgo(f.algo)
	if err != nil {
		return err
	}
	if err := authority.ValidCADays(f.days); err != nil {
		return usageError{err}
	}
	// On a fresh data folder the passphrase comes first, so that a missing
	// or refused one leaves no folder and no database behind.
	var pass authority.Passphrase
	getPass := func() error {
		if f.noPassphrase || pass != nil {
			return nil
		}
		pass, err = app.passphrase(true)
		return err
	}
	defer func() { pass.Wipe() }()
	if app.freshData() {
		if err := getPass(); err != nil {
			return err
		}
	}
	a, err := app.open(ctx)
	if err != nil {
		return err
	}
	if ok, err := a.Initialized(ctx); err != nil {
		return err
	} else if ok {
		return authority.ErrInitialized
	}
	if err := getPass(); err != nil {
		return err
	}
	if err := a.Init(ctx, authority.InitRequest{Algo: algo, CommonName: f.cn, Days: f.days, Passphrase: pass, NoPassphrase: f.noPassphrase}); err != nil {
		return err
	}
	if f.cmd == nil {
		return nil
	}
	return app.keepSettings(ctx, f.cmd)
}

// dsnShown names the database without credentials.
func (app *app) dsnShown() string { return config.RedactDSN(app.dsn) }
