package agent

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/selftest"
)

// DefaultSelfTestInterval is how often the agent runs the self-test
// against its own server (--selftest-interval; 0 disables it).
const DefaultSelfTestInterval = time.Hour

// selfTestFirst bounds the wait for the first self-test after the
// agent starts, so a new agent's result shows soon.
const selfTestFirst = time.Minute

// selfTestLoop runs the self-test every SelfTestInterval (the first after
// at most selfTestFirst) until ctx ends.
func (r *runner) selfTestLoop(ctx context.Context) {
	if r.cfg.SelfTestInterval <= 0 {
		return
	}
	t := time.NewTimer(min(r.cfg.SelfTestInterval, selfTestFirst))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.runSelfTest(ctx)
		t.Reset(r.cfg.SelfTestInterval)
	}
}

// runSelfTest connects the state's two probes to the server over
// loopback, checks the crl.pem in force, keeps the result for the next
// report and asks for one.
func (r *runner) runSelfTest(ctx context.Context) {
	r.mu.Lock()
	st, have := r.st, r.have
	r.mu.Unlock()
	if !have || st.Probe == nil {
		return
	}
	p := selftest.Probe{
		OpenVPN: r.cfg.OpenVPN, Valid: st.Probe.Valid, Revoked: st.Probe.Revoked, Timeout: r.cfg.SelfTestTimeout,
		Remote: selftest.Remote{Host: "127.0.0.1", Port: st.Probe.Port, Proto: st.Probe.Proto},
	}
	checks := append(p.Run(ctx), r.crlCheck(st, time.Now()))
	if ctx.Err() != nil {
		return
	}
	res := &agentwire.SelfTest{At: time.Now().UTC()}
	for _, c := range checks {
		res.Checks = append(res.Checks, agentwire.Check{Name: c.Name, OK: c.OK, Detail: c.Detail})
		if !c.OK {
			r.log.Warn("self-test check failed", "check", c.Name, "detail", c.Detail)
		}
	}
	r.mu.Lock()
	r.selfTest = res
	r.mu.Unlock()
	r.queueReport()
}

// crlCheck compares the crl.pem in the server's folder (what OpenVPN
// reads) with the newest CRL the agent was given.
func (r *runner) crlCheck(st agentwire.State, now time.Time) selftest.Check {
	num, next, err := readCRL(filepath.Join(r.cfg.Dir, "crl.pem"))
	if err != nil {
		return selftest.Check{Name: selftest.CheckCRL, Detail: err.Error()}
	}
	held := selftest.HeldCRL{Known: true, Number: num, NextUpdate: next, Source: "crl.pem"}
	days := int(st.CRL.NextUpdate.Sub(st.CRL.ThisUpdate) / (24 * time.Hour))
	return selftest.CRLCheck(held, st.CRL.Number, days, now)
}

// readCRL reads the number and nextUpdate of a PEM CRL file.
func readCRL(path string) (int64, time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading crl.pem: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return 0, time.Time{}, fmt.Errorf("reading crl.pem: no PEM block")
	}
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading crl.pem: %w", err)
	}
	if crl.Number == nil || !crl.Number.IsInt64() {
		return 0, crl.NextUpdate, fmt.Errorf("reading crl.pem: no CRL number")
	}
	return crl.Number.Int64(), crl.NextUpdate, nil
}
