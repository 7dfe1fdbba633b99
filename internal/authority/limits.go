package authority

import (
	"fmt"
	"math"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
)

// MaxLinkTTL is the longest a one-time link may last, whoever asks (config
// link_ttl, CLI, API): a link is a bearer secret for a private key.
const MaxLinkTTL = 90 * 24 * time.Hour

// ValidLinkTTL checks a link lifetime: zero or less means the default, more
// than MaxLinkTTL is refused with an error wrapping account.ErrInvalid.
func ValidLinkTTL(d time.Duration) error {
	if d > MaxLinkTTL {
		return fmt.Errorf("%w: link lifetime %s: want at most %d hours (90 days)", account.ErrInvalid, d, int(MaxLinkTTL/time.Hour))
	}
	return nil
}

// LinkTTLHours turns a lifetime in hours, as JSON carries it, into a
// checked duration: zero or less (or NaN) means the default (0); more than
// MaxLinkTTL is refused before the conversion could overflow.
func LinkTTLHours(h float64) (time.Duration, error) {
	if math.IsNaN(h) || h <= 0 {
		return 0, nil
	}
	if h > MaxLinkTTL.Hours() {
		return 0, fmt.Errorf("%w: link lifetime %g hours: want at most %d hours (90 days)", account.ErrInvalid, h, int(MaxLinkTTL/time.Hour))
	}
	d := time.Duration(h * float64(time.Hour))
	return d, ValidLinkTTL(d)
}
