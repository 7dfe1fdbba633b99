package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/roster"
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
name, os and lang (any order; only user is required) and onboards everyone in one
run. Every refused row is listed with its line number and reason; the good rows
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
	rows, bad, err := roster.Parse(file)
	if err != nil {
		return fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	for _, b := range bad {
		fmt.Fprintln(app.stdio.Err, "refused: "+oneLine(b))
	}
	if len(bad) > 0 && f.allOrNothing {
		return fmt.Errorf("%w: %d of %d rows refused; nothing onboarded (--all-or-nothing)", account.ErrInvalid, len(bad), len(bad)+len(rows))
	}
	reqs := make([]authority.UserRequest, len(rows))
	for i, r := range rows {
		reqs[i] = authority.UserRequest{Name: r.User, Email: r.Email, FullName: r.Name, OS: r.OS, Lang: r.Lang}
	}
	var summary authority.RosterResult
	if len(reqs) > 0 {
		a, err := app.firstUse(ctx, addFlags{initFlags: f.initFlags, remote: f.remote})
		if err != nil {
			return err
		}
		opts := authority.AddOptions{OutDir: f.out, NoBundles: f.noBundles, Reinstate: f.reinstate, AllOrNothing: f.allOrNothing}
		if isTerminal(app.stdio.Err) {
			opts.Progress = progressBar(app.stdio.Err)
		}
		summary, err = a.OnboardRoster(ctx, reqs, opts)
		if opts.Progress != nil {
			fmt.Fprintln(app.stdio.Err)
		}
		lines := map[string]int{}
		for _, r := range rows {
			lines[r.User] = r.Line
		}
		for _, r := range summary.Refused {
			fmt.Fprintln(app.stdio.Err, "refused: "+oneLine(roster.RowError{Line: lines[r.Name], User: r.Name, Err: r.Err}))
		}
		if err != nil {
			return err
		}
	}
	for _, r := range summary.Results {
		if r.Reinstated {
			fmt.Fprintf(app.stdio.Out, "%s: reinstated (was revoked)\n", r.User)
		}
	}
	refused := len(bad) + len(summary.Refused)
	fmt.Fprintf(app.stdio.Out, "%d rows: %d issued, %d kept, %d unchanged, %d refused\n",
		len(rows)+len(bad), summary.Issued, summary.Kept, summary.Unchanged, refused)
	if refused > 0 {
		return fmt.Errorf("%w: %d rows refused (listed above); the others were onboarded", account.ErrInvalid, refused)
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
