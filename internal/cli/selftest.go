package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/selftest"
)

// selfTestReport is one server's self-test as `selftest --json` prints it.
type selfTestReport struct {
	Server string           `json:"server"`
	Remote string           `json:"remote"`
	OK     bool             `json:"ok"`
	Checks []selftest.Check `json:"checks"`
}

// errSelfTestFailed ends `vpnkeys selftest` with exit 1.
var errSelfTestFailed = errors.New("self-test failed")

func (app *app) selfTestCommand() *cobra.Command {
	var (
		server  string
		asJSON  bool
		timeout time.Duration
		openvpn string
	)
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Prove that each server admits a valid probe and refuses a revoked one",
		Long: `selftest connects a real OpenVPN client (no tun device, no root needed) through
each server, or --server S, at the address in users' profiles, with the server's
two probe identities: a valid probe must get a tunnel (check "tunnel") and a
revoked probe must be refused (check "revoked"). Check "crl" reads what the
server's agent last reported: the CRL the server holds must be the newest and
not within 3 days of its nextUpdate (a server without an agent is not checked
and says "no agent").
The probe certificates are made on first use and renewed before they expire;
they are no user's and show in no user list.
It prints one line per server and check, and exits 1 when any check fails.`,
		Example: "  vpnkeys selftest\n  vpnkeys selftest --server dc1 --timeout 30s\n  vpnkeys selftest --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout < time.Second || timeout > 10*time.Minute {
				return usagef("--timeout %v: want a duration from 1s to 10m", timeout)
			}
			ctx := cmd.Context()
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			names := []string{server}
			if server == "" {
				if names, err = serverNames(ctx, a); err != nil {
					return err
				}
			}
			var reports []selfTestReport
			for _, name := range names {
				r, err := runSelfTest(ctx, a, name, openvpn, timeout)
				if err != nil {
					return err
				}
				reports = append(reports, r)
			}
			return app.printSelfTests(reports, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "test only this server")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.DurationVar(&timeout, "timeout", selftest.DefaultTimeout, "how long each probe may take")
	f.StringVar(&openvpn, "openvpn", "", "the openvpn binary (default: openvpn on PATH)")
	return cmd
}

// runSelfTest probes one server and reads its CRL freshness from its
// agent's last report.
func runSelfTest(ctx context.Context, a *authority.Authority, server, openvpn string, timeout time.Duration) (selfTestReport, error) {
	ps, err := a.Probes(ctx, server)
	if err != nil {
		return selfTestReport{}, err
	}
	p := selftest.Probe{OpenVPN: openvpn, Valid: ps.Valid, Revoked: ps.Revoked, Timeout: timeout,
		Remote: selftest.Remote{Host: ps.Remote.Host, Port: ps.Remote.Port, Proto: ps.Remote.Proto}}
	checks := p.Run(ctx)
	if err := context.Cause(ctx); err != nil {
		return selfTestReport{}, err
	}
	crl, err := a.CRL(ctx)
	if err != nil {
		return selfTestReport{}, err
	}
	agents, err := a.AgentStatus(ctx)
	if err != nil {
		return selfTestReport{}, err
	}
	held := selftest.HeldCRL{}
	for _, v := range agents {
		if v.Server == server && v.Seen() && v.CRLNumber > 0 {
			held = selftest.HeldCRL{Known: true, Number: v.CRLNumber, NextUpdate: v.CRLNextUpdate,
				Source: "agent report of " + stamp(v.LastSeen)}
		}
	}
	checks = append(checks, selftest.CRLCheck(held, crl.Number, a.CRLDays(), time.Now()))
	r := selfTestReport{Server: server, Remote: ps.Remote.String(), OK: true, Checks: checks}
	for _, c := range checks {
		r.OK = r.OK && c.OK
	}
	return r, nil
}

func (app *app) printSelfTests(reports []selfTestReport, asJSON bool) error {
	failed := 0
	for _, r := range reports {
		for _, c := range r.Checks {
			if !c.OK {
				failed++
			}
		}
	}
	if asJSON {
		if reports == nil {
			reports = []selfTestReport{}
		}
		if err := writeJSON(app, reports); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
		for _, r := range reports {
			for _, c := range r.Checks {
				res := "ok"
				if !c.OK {
					res = "FAIL"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Server, c.Name, res, c.Detail)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d check(s) failing", errSelfTestFailed, failed)
	}
	return nil
}

// selfTestLines are `server status`'s lines about each agent's last
// self-test, after its table: one per server that reported one.
func selfTestLines(list []authority.AgentView) []string {
	var out []string
	for _, v := range list {
		st := v.SelfTest
		if st == nil {
			continue
		}
		line := fmt.Sprintf("self-test %s at %s: ", v.Server, stamp(st.At))
		if st.OK {
			out = append(out, line+"ok")
			continue
		}
		var bad []string
		for _, c := range st.Checks {
			if !c.OK {
				bad = append(bad, c.Name+" FAIL ("+c.Detail+")")
			}
		}
		line += strings.Join(bad, "; ")
		out = append(out, line)
	}
	return out
}
