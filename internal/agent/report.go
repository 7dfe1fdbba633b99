package agent

import (
	"context"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// report is what the agent tells the control plane now. Call with r.mu
// held.
func (r *runner) report() agentwire.Report {
	var errs []string
	for _, e := range []string{r.applyErr, r.fwErr, r.mgmtErr, r.renewErr} {
		if e != "" {
			errs = append(errs, e)
		}
	}
	if warn := r.crlWarning(); warn != "" {
		errs = append(errs, warn)
	}
	rep := agentwire.Report{
		Version:      r.st.Version,
		AppliedAt:    r.appliedAt,
		Hashes:       fileHashes(r.st),
		Error:        strings.Join(errs, "; "),
		Management:   r.mgmtOK,
		Sessions:     append([]agentwire.Session{}, r.sessions...),
		Kills:        r.kills,
		AgentVersion: r.cfg.AgentVersion,
		SelfTest:     r.selfTest,
	}
	rep.RestartPending = r.applier.Gate.Since() // zero when none is held back
	if r.have {
		rep.CRLNumber = r.st.CRL.Number
		rep.CRLNextUpdate = crlNextUpdate(r.st)
	}
	return rep
}

// queueReport hands the current report to the reporter, replacing one
// that is still waiting: only the newest matters.
func (r *runner) queueReport() {
	r.mu.Lock()
	rep := r.report()
	r.mu.Unlock()
	for {
		select {
		case r.reports <- rep:
			return
		default:
		}
		select {
		case <-r.reports:
		default:
		}
	}
}

// reporter posts reports one at a time, so a control plane that is away
// never holds up the sweeps.
func (r *runner) reporter(ctx context.Context) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case rep := <-r.reports:
			err := r.client.Report(ctx, rep)
			switch {
			case err != nil && !failing && ctx.Err() == nil:
				r.log.Warn("report not delivered", "err", err)
				failing = true
			case err == nil:
				failing = false
			}
		}
	}
}

// crlWarning is the report's line about a CRL close to its nextUpdate.
func (r *runner) crlWarning() string {
	if !r.have {
		return ""
	}
	next := crlNextUpdate(r.st)
	if next.IsZero() || time.Until(next) > CRLWarnBefore {
		return ""
	}
	return "CRL expires " + next.UTC().Format(time.RFC3339) + ": OpenVPN then refuses every login"
}

// checkCRL sets the CRL metric and logs a warning (every 6 hours at
// most) when the held CRL is within CRLWarnBefore of its nextUpdate.
// Call with r.mu held.
func (r *runner) checkCRL() {
	if !r.have {
		return
	}
	next := crlNextUpdate(r.st)
	if !next.IsZero() {
		r.m.crlNext.Set(float64(next.Unix()))
	}
	if warn := r.crlWarning(); warn != "" && time.Since(r.crlWarned) > 6*time.Hour {
		r.log.Warn("CRL close to its nextUpdate: is vpnkeys serve re-signing it?", "next_update", next, "crl", r.st.CRL.Number)
		r.crlWarned = time.Now()
	}
}
