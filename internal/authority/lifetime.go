package authority

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Certificate lifetimes are settings: `--days N` on add, renew and server
// add, cert_days in the config file or the settings table, `init --days N`
// for the CA. A lifetime given explicitly is checked before anything is
// signed or stored; one that would outlive the CA is refused with the CA's
// end and the largest lifetime that fits. Only the built-in default (825
// days) is still cut silently at the CA's end, so a CA in its last two
// years keeps working without configuration.
const (
	MaxLeafDays = 3650  // user and server certificates: 10 years
	MaxCADays   = 36500 // the CA: 100 years
)

// ValidLeafDays checks a user or server certificate lifetime in days.
func ValidLeafDays(n int) error {
	if n < 1 || n > MaxLeafDays {
		return fmt.Errorf("%w: days %d: a certificate lifetime must be 1 to %d days", account.ErrInvalid, n, MaxLeafDays)
	}
	return nil
}

// ValidCADays checks a CA lifetime in days.
func ValidCADays(n int) error {
	if n < 1 || n > MaxCADays {
		return fmt.Errorf("%w: days %d: the CA's lifetime must be 1 to %d days", account.ErrInvalid, n, MaxCADays)
	}
	return nil
}

// leafDays resolves a requested lifetime (0: Options.LeafDays, else the
// default) and checks an explicit one against the range and the CA's end.
// The result is what pki.Leaf.Days gets.
func (a *Authority) leafDays(ctx context.Context, requested int) (int, error) {
	days := requested
	if days == 0 {
		days = a.opts.LeafDays
	}
	if days == 0 {
		return pki.DefaultLeafDays, nil
	}
	if err := ValidLeafDays(days); err != nil {
		return 0, err
	}
	ca, err := a.caCert(ctx)
	if errors.Is(err, ErrNotInitialized) {
		return days, nil // the caller reports it
	}
	if err != nil {
		return 0, err
	}
	now, end := a.now(), ca.NotAfter
	if !now.AddDate(0, 0, days).After(end) {
		return days, nil
	}
	return 0, fmt.Errorf("%w: days %d: the certificate would outlive the CA, which expires on %s; at most %d days fit",
		account.ErrInvalid, days, end.UTC().Format(time.DateOnly), daysFitting(now, end))
}

// daysFitting is the largest N with now + N days at or before end (0 when
// none fits).
func daysFitting(now, end time.Time) int {
	n := int(end.Sub(now) / (24 * time.Hour))
	for n > 0 && now.AddDate(0, 0, n).After(end) {
		n--
	}
	for now.AddDate(0, 0, n+1).Compare(end) <= 0 {
		n++
	}
	return max(n, 0)
}

// renewBefore is how long before its end a server certificate is renewed:
// 30 days, or a third of its lifetime when that is shorter, so a server
// given `--days 5` is not re-issued on every render of its files.
func renewBefore(c store.Cert) time.Duration {
	return min(30*24*time.Hour, c.NotAfter.Sub(c.NotBefore)/3)
}
