package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

type rosterFlags struct {
	initFlags
	allOrNothing, noBundles, reinstate bool
	out, remote                        string
}

func (app *app) importUsersCommand() *cobra.Command {
	var f rosterFlags
	cmd := &cobra.Command{
		Use:   "users ROSTER.csv",
		Short: "Onboard a whole roster (CSV: user, email, name, os, lang) with one CA unlock",
		Long: `import users reads a UTF-8 CSV roster whose header names the columns user, email,
name, os, lang and groups (any order; only user is required; several groups in
one cell separated by ';' or '|'; a row naming a group that does not exist is
refused) and onboards everyone in one run. Every refused row is listed with its line number and reason; the good rows
are onboarded (or nothing, with --all-or-nothing), and the command exits 2 when
any row was refused. Users already onboarded with the same details are left
alone, so running the same file again changes nothing. A progress bar shows on
a terminal.`,
		Example: "  vpnkeys import users staff.csv\n  vpnkeys import users staff.csv --all-or-nothing --no-bundles",
		Args:    exactArgs(1, "one ROSTER.csv"),
		RunE:    func(cmd *cobra.Command, args []string) error { return app.importUsers(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.allOrNothing, "all-or-nothing", false, "onboard nobody when any row is refused")
	fl.BoolVar(&f.reinstate, "reinstate", false, "give revoked users listed in the roster access again (refused rows without it)")
	fl.BoolVar(&f.noBundles, "no-bundles", false, "issue certificates without writing bundles (links and 'add' render them later)")
	fl.StringVar(&f.out, "out", "", "bundles folder (default DATA/bundles)")
	fl.StringVar(&f.remote, "remote", "", "on first use: register server \"vpn\" at HOST:PORT[/udp|/tcp]")
	f.register(cmd)
	return cmd
}

func (app *app) importUsers(cmd *cobra.Command, path string, f rosterFlags) error {
	ctx := withActor(cmd.Context())
	file, err := os.Open(path)
	if err != nil {
		return usagef("roster: %v", err)
	}
	defer file.Close()
	ro, err := authority.ReadRoster(file)
	if err != nil {
		return err
	}
	rep := ro.Report()
	if ro.Onboardable() > 0 {
		a, err := app.firstUse(ctx, addFlags{initFlags: f.initFlags, remote: f.remote})
		if err != nil {
			return err
		}
		opts := authority.AddOptions{OutDir: f.out, NoBundles: f.noBundles, Reinstate: f.reinstate, AllOrNothing: f.allOrNothing}
		if isTerminal(app.stdio.Err) {
			opts.Progress = progressBar(app.stdio.Err)
		}
		rep, err = a.ImportRoster(ctx, ro, opts)
		if opts.Progress != nil {
			fmt.Fprintln(app.stdio.Err)
		}
		if err != nil {
			return err
		}
	}
	for _, r := range rep.Refused {
		fmt.Fprintln(app.stdio.Err, "refused: "+oneLine(errors.New(r.String())))
	}
	if rep.Stopped || (f.allOrNothing && len(rep.Refused) > 0) {
		return fmt.Errorf("%w: %d of %d rows refused; nothing onboarded (--all-or-nothing)", account.ErrInvalid, len(rep.Refused), rep.Rows)
	}
	for _, r := range rep.Results {
		if r.Reinstated {
			fmt.Fprintf(app.stdio.Out, "%s: reinstated (was revoked)\n", r.User)
		}
	}
	fmt.Fprintf(app.stdio.Out, "%d rows: %d issued, %d kept, %d unchanged, %d refused\n",
		rep.Rows, rep.Issued, rep.Kept, rep.Unchanged, len(rep.Refused))
	if len(rep.Refused) > 0 {
		return fmt.Errorf("%w: %d rows refused (listed above); the others were onboarded", account.ErrInvalid, len(rep.Refused))
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws "[#####.....] 2560/10000" on one line.
func progressBar(w io.Writer) func(done, total int) {
	return func(done, total int) {
		const width = 30
		n := width * done / max(total, 1)
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
	}
}
