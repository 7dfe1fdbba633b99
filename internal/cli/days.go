package cli

import (
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/config"
)

// Certificate lifetimes, from the strongest source down: --days N on
// add, renew and server add; VPNKEYS_CERT_DAYS or the config file's
// cert_days; the settings table's cert_days; 825 days.

// certDaysSetting reads VPNKEYS_CERT_DAYS, or else the config file's
// cert_days (already validated), into app.ux.certDays; applySettings takes
// the settings table's only when neither gave one.
func (app *app) certDaysSetting() error {
	app.ux.certDays = app.cfg.CertDays
	v := os.Getenv("VPNKEYS_CERT_DAYS")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err == nil {
		err = config.ValidCertDays(n)
	}
	if err != nil {
		return usagef("VPNKEYS_CERT_DAYS %q: want 1 to %d days", v, config.MaxCertDays)
	}
	app.ux.certDays = n
	return nil
}

// daysFlag registers --days N (user or server certificate lifetime) on cmd.
func daysFlag(cmd *cobra.Command, days *int) {
	cmd.Flags().IntVar(days, "days", 0, "certificate lifetime in days, 1 to 3650 (default: cert_days from the config or settings, else 825)")
}

// checkDays refuses a --days given out of range before anything is opened.
// A lifetime that outlives the CA is refused by the service, which knows
// the CA's end.
func checkDays(cmd *cobra.Command, days int) error {
	if !cmd.Flags().Changed("days") {
		return nil
	}
	if err := authority.ValidLeafDays(days); err != nil {
		return usageError{err}
	}
	return nil
}
