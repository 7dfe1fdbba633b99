package selftest

import (
	"fmt"
	"time"
)

// CRLMinLeft is how far away the held CRL's nextUpdate must at least be
// (or a third of the CRL's lifetime, when that is shorter): past
// nextUpdate OpenVPN refuses everyone.
const CRLMinLeft = 3 * 24 * time.Hour

// HeldCRL is what is known of the CRL a server holds.
type HeldCRL struct {
	Known      bool // false: nobody reported it (no agent)
	Number     int64
	NextUpdate time.Time
	Source     string // where it was read, for the detail ("agent report", "crl.pem")
}

// CRLCheck checks that held is the newest CRL (number current) and that
// its nextUpdate is more than CRLMinLeft away, or a third of crlDays
// when that is less. An unknown held CRL (no agent) passes, saying so.
func CRLCheck(held HeldCRL, current int64, crlDays int, now time.Time) Check {
	c := Check{Name: CheckCRL}
	need := CRLMinLeft
	if third := time.Duration(crlDays) * 24 * time.Hour / 3; crlDays > 0 && third < need {
		need = third
	}
	left := held.NextUpdate.Sub(now)
	switch {
	case !held.Known:
		// A server without an agent (its files written by `vpnkeys server
		// files`) is not failed for it; the revoked probe still shows
		// whether its CRL refuses what it should.
		c.OK, c.Detail = true, "no agent: which CRL the server holds is unknown (not checked)"
	case held.Number < current:
		c.Detail = fmt.Sprintf("stale CRL: the server holds #%d (%s), the newest is #%d", held.Number, held.Source, current)
	case held.NextUpdate.IsZero():
		c.Detail = fmt.Sprintf("CRL #%d: nextUpdate unknown (%s)", held.Number, held.Source)
	case left <= need:
		c.Detail = fmt.Sprintf("CRL #%d lapses at %s (in %s, want more than %s): OpenVPN then refuses everyone",
			held.Number, held.NextUpdate.UTC().Format(time.RFC3339), left.Round(time.Minute), need)
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("CRL #%d is the newest, next update %s", held.Number, held.NextUpdate.UTC().Format(time.RFC3339))
	}
	return c
}
