package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// uxState holds what the settings table, --public-url and the commands
// added in files of their own need.
type uxState struct {
	publicURL string // --public-url or VPNKEYS_PUBLIC_URL
	// defaultPublicURL is the last resort (serve: its own address).
	defaultPublicURL string
	// certDays: VPNKEYS_CERT_DAYS or cert_days of the config file, else the
	// settings table's (days.go); 0: the default.
	certDays int
	source   map[string]string // setting key -> where its value came from
}

// applySettings fills, from the settings table, every setting that no
// flag, environment variable or config file gave.
func (app *app) applySettings(ctx context.Context) error {
	stored, err := app.db.Settings(ctx)
	if err != nil {
		return err
	}
	app.ux.source = map[string]string{}
	given := func(key string, set bool) bool {
		if set {
			app.ux.source[key] = "flag, environment or config file"
			return true
		}
		if stored[key] != "" {
			app.ux.source[key] = "database"
		}
		return false
	}
	if err := app.checkPublicURL(); err != nil {
		return err
	}
	if app.ux.publicURL != "" {
		app.cfg.PublicURL = app.ux.publicURL
	}
	if !given(authority.SettingCompany, app.company != "") {
		app.company = stored[authority.SettingCompany]
	}
	if !given(authority.SettingContact, app.contact != "") {
		app.contact = stored[authority.SettingContact]
	}
	if !given(authority.SettingPublicURL, app.cfg.PublicURL != "") {
		app.cfg.PublicURL = stored[authority.SettingPublicURL]
	}
	if app.cfg.PublicURL == "" {
		app.cfg.PublicURL = app.ux.defaultPublicURL
	}
	if !given(authority.SettingLinkTTL, app.cfg.LinkTTL.Duration != 0) && stored[authority.SettingLinkTTL] != "" {
		app.cfg.LinkTTL.Duration, _ = time.ParseDuration(stored[authority.SettingLinkTTL])
	}
	if !given(authority.SettingCertDays, app.ux.certDays != 0) && stored[authority.SettingCertDays] != "" {
		app.ux.certDays, _ = strconv.Atoi(stored[authority.SettingCertDays])
	}
	return nil
}

// keepSettings stores the settings given as flags to a command that sets
// things up (init, a first add), so later commands need not repeat them.
func (app *app) keepSettings(ctx context.Context, cmd *cobra.Command) error {
	for flag, key := range map[string]string{"company": authority.SettingCompany, "contact": authority.SettingContact, "public-url": authority.SettingPublicURL} {
		f := cmd.Flags().Lookup(flag)
		if f == nil || !f.Changed {
			continue
		}
		if err := app.auth.SetSetting(ctx, key, f.Value.String()); err != nil {
			return err
		}
	}
	return nil
}

func (app *app) settingsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show the settings kept in the database (company, contact, public URL, lifetimes)",
		Long: `settings shows the settings kept in the database and the value in effect. init
keeps --company, --contact and --public-url there, and 'settings set' changes
them; flags, the environment and the config file still win over them.

Keys: company, contact, public_url, link_ttl (e.g. 72h), cert_days, tls_mode
(the control channel of servers added without --tls-mode).`,
		Example: "  vpnkeys settings\n  vpnkeys settings set company \"Example Ltd\"\n  vpnkeys settings set public_url https://vpn.example.com\n  vpnkeys settings set link_ttl \"\"   # back to the default",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := app.open(cmd.Context()); err != nil {
				return err
			}
			stored, err := app.db.Settings(cmd.Context())
			if err != nil {
				return err
			}
			inEffect := map[string]string{
				authority.SettingCompany: app.company, authority.SettingContact: app.contact,
				authority.SettingPublicURL: app.cfg.PublicURL, authority.SettingLinkTTL: stored[authority.SettingLinkTTL],
				authority.SettingCertDays: stored[authority.SettingCertDays],
				authority.SettingTLSMode:  cmp.Or(stored[authority.SettingTLSMode], "tls-crypt"),
			}
			if app.ux.certDays != 0 {
				inEffect[authority.SettingCertDays] = strconv.Itoa(app.ux.certDays)
			}
			if app.cfg.LinkTTL.Duration != 0 {
				inEffect[authority.SettingLinkTTL] = app.cfg.LinkTTL.Duration.String()
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tSTORED\tIN EFFECT\tFROM")
			for _, k := range authority.SettingKeys {
				from := app.ux.source[k]
				if from == "" {
					from = "default"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, dash(stored[k]), dash(inEffect[k]), from)
			}
			return tw.Flush()
		},
	}
	set := &cobra.Command{
		Use:     "set KEY VALUE",
		Short:   "Keep a setting in the database (an empty VALUE removes it)",
		Example: "  vpnkeys settings set contact \"IT desk, ext. 4242\"",
		Args:    exactArgs(2, "KEY VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := authority.ValidSetting(args[0], args[1]); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := a.SetSetting(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "%s = %q kept\n", args[0], args[1])
			return nil
		},
	}
	cmd.AddCommand(set)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// publicURLFlag registers --public-url on root.
func (app *app) publicURLFlag(root *cobra.Command) {
	root.PersistentFlags().StringVar(&app.ux.publicURL, "public-url", os.Getenv("VPNKEYS_PUBLIC_URL"),
		"where employees reach the link pages, e.g. https://vpn.example.com (env VPNKEYS_PUBLIC_URL; kept by init)")
}

// checkPublicURL refuses a malformed --public-url (or VPNKEYS_PUBLIC_URL).
func (app *app) checkPublicURL() error {
	if app.ux.publicURL == "" {
		return nil
	}
	if err := authority.ValidSetting(authority.SettingPublicURL, app.ux.publicURL); err != nil {
		return usageError{fmt.Errorf("--public-url: %w", err)}
	}
	return nil
}
