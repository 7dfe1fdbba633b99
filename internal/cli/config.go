package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
)

func (app *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check the configuration"}
	check := &cobra.Command{
		Use:   "check",
		Short: "Load and validate the configuration file, and print the settings in effect (secrets redacted)",
		Long: `config check loads and validates the file given with --config, then prints the
settings vpnkeys would use as TOML, spelt as in the file (link_ttl = "72h"),
with flags and VPNKEYS_* environment variables applied and defaults filled in.
Passwords are redacted: the one inside a db DSN, and the SMTP password. The
output is itself a valid configuration file.`,
		Example: "  vpnkeys --config /etc/vpnkeys/vpnkeys.toml config check",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if app.cfgPath == "" {
				return usageError{errors.New("no configuration file: give --config FILE")}
			}
			text, err := app.effectiveConfig().TOML()
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "# config %s is valid. The settings in effect, with flags and\n# VPNKEYS_* environment variables applied; secrets redacted.\n", app.cfgPath)
			_, err = app.stdio.Out.Write(text)
			return err
		},
	}
	cmd.AddCommand(check)
	return cmd
}

// effectiveConfig is the file's settings with what setup let flags and the
// environment override, and the defaults the service fills in.
func (app *app) effectiveConfig() config.Config {
	c := app.cfg
	c.Data, c.DB, c.Templates = app.dataDir, app.dsn, app.templates
	c.Company, c.Contact = app.company, app.contact
	if c.LinkTTL.Duration == 0 {
		c.LinkTTL.Duration = authority.DefaultLinkTTL
	}
	return c
}
