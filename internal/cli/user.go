package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

type addFlags struct {
	initFlags
	email, name, os, lang, out, remote string
	newKey, reinstate                  bool
	groups                             []string
	leafDays                           int // --days
}

func (app *app) addCommand() *cobra.Command {
	var f addFlags
	cmd := &cobra.Command{
		Use:   "add USER...",
		Short: "Issue users their certificate and write their bundles",
		Long: `add issues each user a certificate (a user with a valid one keeps it, unless
--new-key) and writes the bundle folder DIR/USER/: USER.ovpn (inline, every
registered server as a remote, with failover), ca.crt, USER.crt, USER.key,
ta.key and README.txt for the user's OS in their language, plus DIR/USER.tar.gz
and DIR/USER.zip. The folder is replaced atomically.

On a data folder with no CA yet, add creates one first (as init would), and
--remote registers a first server named "vpn", so one command onboards a first
user on a fresh machine.`,
		Example: `  vpnkeys add alice
  vpnkeys add bob carol --os windows --lang de --out /srv/bundles
  vpnkeys add dave --email dave@example.com --name "Dave Smith" --os macos
  vpnkeys add frank --group developers --group ops
  vpnkeys add erin --os ios --lang es                # iPhone/iPad: OpenVPN Connect imports erin.ovpn
  vpnkeys add alice --remote vpn.example.com:1194   # first run: creates the CA too`,
		Args: minArgs(1, "USER: name at least one user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDays(cmd, f.leafDays); err != nil {
				return err
			}
			return app.add(withActor(cmd.Context()), args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.email, "email", "", "the user's email address")
	fl.StringVar(&f.name, "name", "", "the user's full name")
	fl.StringVar(&f.os, "os", "", "the user's OS: windows, macos, linux, android or ios (default windows for a new user)")
	fl.StringVar(&f.lang, "lang", "", "the readme's language: en, es, fr, de or ru (default en)")
	fl.StringVar(&f.out, "out", "", "bundles folder (default DATA/bundles)")
	fl.BoolVar(&f.newKey, "new-key", false, "issue a fresh key even when the user has a valid certificate")
	fl.BoolVar(&f.reinstate, "reinstate", false, "give revoked users access again (refused without it)")
	fl.StringArrayVar(&f.groups, "group", nil, "put the users in this group, which must exist (repeatable; memberships they have stay)")
	fl.StringVar(&f.remote, "remote", "", "on first use: register server \"vpn\" at HOST:PORT[/udp|/tcp] (later: use server set|add)")
	daysFlag(cmd, &f.leafDays)
	f.register(cmd)
	return cmd
}

func (app *app) add(ctx context.Context, users []string, f addFlags) error {
	reqs := make([]authority.UserRequest, len(users))
	for i, u := range users {
		reqs[i] = authority.UserRequest{Name: u, Email: f.email, FullName: f.name, OS: f.os, Lang: f.lang, Groups: f.groups}
		if err := reqs[i].Validate(); err != nil {
			return err
		}
	}
	if len(users) > 1 && (f.email != "" || f.name != "") {
		return usagef("--email and --name apply to one user; give one USER")
	}
	a, err := app.firstUse(ctx, f)
	if err != nil {
		return err
	}
	res, err := a.AddUsers(ctx, reqs, authority.AddOptions{OutDir: f.out, NewKey: f.newKey, Reinstate: f.reinstate, Days: f.leafDays})
	for _, r := range res {
		app.printAdded(r)
	}
	return err
}

// printAdded prints one line for a user that add, renew or a roster
// onboarded.
func (app *app) printAdded(r authority.AddResult) {
	verb := "kept certificate"
	if r.Issued {
		verb = "issued certificate"
	}
	if r.Reinstated {
		verb = "reinstated (was revoked), " + verb
	}
	fmt.Fprintf(app.stdio.Out, "%s: %s %s (expires %s), bundle %s\n", r.User, verb, r.Serial,
		r.Expires.Format(time.DateOnly), filepath.Join(r.Dir, r.User))
}

// firstUse unlocks the CA, creating it (and a first server from --remote)
// when the database has none. Everything that can be refused is checked
// before the CA is made, so a refused first run leaves nothing behind.
func (app *app) firstUse(ctx context.Context, f addFlags) (*authority.Authority, error) {
	if f.remote != "" {
		if _, err := ovpn.ParseRemote(f.remote); err != nil {
			return nil, fmt.Errorf("--remote: %w", err)
		}
	}
	if app.freshData() {
		if f.remote == "" {
			return nil, errFirstRemote
		}
		return app.firstCA(ctx, f, nil)
	}
	a, err := app.open(ctx)
	if err != nil {
		return nil, err
	}
	ok, err := a.Initialized(ctx)
	if err != nil {
		return nil, err
	}
	servers, err := a.Servers(ctx)
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 && f.remote == "" {
		if !ok {
			return nil, errFirstRemote
		}
		return nil, authority.ErrNoServers
	}
	if len(servers) > 0 && f.remote != "" && !hasRemote(servers, f.remote) {
		return nil, usagef("--remote only registers the first server, and server %s exists: change it with 'vpnkeys server set %s --remote %s' or add another with 'vpnkeys server add NAME --remote %s'",
			servers[0].Name, servers[0].Name, f.remote, f.remote)
	}
	if !ok {
		return app.firstCA(ctx, f, servers)
	}
	if a, err = app.unlocked(ctx); err != nil {
		return nil, err
	}
	return a, app.firstServer(ctx, servers, f.remote)
}

// firstCA creates the CA and, when there is none, the first server.
func (app *app) firstCA(ctx context.Context, f addFlags, servers []authority.ServerView) (*authority.Authority, error) {
	if err := app.initCA(ctx, f.initFlags); err != nil {
		return nil, err
	}
	fmt.Fprintf(app.stdio.Out, "CA created in %s\n", app.dsnShown())
	return app.auth, app.firstServer(ctx, servers, f.remote)
}

// firstServer registers server "vpn" at remote when servers is empty.
func (app *app) firstServer(ctx context.Context, servers []authority.ServerView, remote string) error {
	if len(servers) > 0 {
		return nil
	}
	if _, err := app.auth.AddServer(ctx, authority.ServerRequest{Name: "vpn", Remote: remote}); err != nil {
		return err
	}
	fmt.Fprintf(app.stdio.Out, "server vpn registered at %s\n", remote)
	return nil
}

func (app *app) listCommand() *cobra.Command {
	var f authority.ListFilter
	var asJSON bool
	var within string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List users and the state of their access",
		Example: "  vpnkeys list\n  vpnkeys list --status expiring --within 2w\n  vpnkeys list --search smith --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := listWithin(cmd, &f, within); err != nil {
				return err
			}
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			users, _, err := a.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if users == nil {
					users = []authority.UserView{}
				}
				return writeJSON(app, users)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tSTATUS\tEXPIRES\tOS\tLANG\tEMAIL\tSERIAL")
			for _, u := range users {
				exp := ""
				if !u.NotAfter.IsZero() {
					exp = u.NotAfter.Format(time.DateOnly)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Status, exp, u.OS, u.Lang, u.Email, u.Serial)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.Status, "status", "", "only users in this state: active, expiring, expired, revoked, none")
	cmd.Flags().StringVar(&within, "within", "30d", "with --status expiring: how far ahead, e.g. 12h, 30d, 2w")
	cmd.Flags().StringVar(&f.Search, "search", "", "only users whose name, email or full name contains this")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(app *app, v any) error {
	enc := json.NewEncoder(app.stdio.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (app *app) showCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show USER",
		Short:   "Show a user and their certificate history",
		Example: "  vpnkeys show alice\n  vpnkeys show alice --json",
		Args:    exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			d, err := a.Show(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, d)
			}
			w := app.stdio.Out
			fmt.Fprintf(w, "user:     %s\nname:     %s\nemail:    %s\nos:       %s\nlanguage: %s\nstatus:   %s\n",
				d.Name, d.FullName, d.Email, d.OS, d.Lang, d.Status)
			printAccess(w, d.Groups, d.Addresses)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "\nSERIAL\tSTATE\tNOT BEFORE\tNOT AFTER\tREVOKED\tREASON")
			for _, c := range d.Certificates {
				rev := ""
				if !c.RevokedAt.IsZero() {
					rev = c.RevokedAt.Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Serial, c.State, c.NotBefore.Format(time.DateOnly),
					c.NotAfter.Format(time.DateOnly), rev, c.Reason)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (app *app) revokeCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke USER...",
		Short: "Take users' access away: revoke, re-sign the CRL, refresh every server's crl.pem",
		Long: `revoke puts every certificate of each user that has not expired on the CRL,
signs one CRL for the whole command and rewrites crl.pem in every server folder
vpnkeys wrote on this machine; OpenVPN re-reads its crl-verify file on every new
connection, so the users are refused from then on. Their open one-time links
end and their bundles (private keys included) are removed from the bundles
folder. Revoking a user revoked before publishes the CRL again, which repairs a
revoke that was interrupted. Bringing a revoked user back takes --reinstate on
add, renew or import users.`,
		Example: "  vpnkeys revoke alice\n  vpnkeys revoke bob --reason key-compromise",
		Args:    minArgs(1, "USER: name at least one user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := authority.ValidReason(reason); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			res, err := a.RevokeUsers(ctx, args, reason)
			var errs []error
			for _, x := range res {
				app.printRevoked(x, reasonOrDefault(reason))
				if x.Err != nil {
					errs = append(errs, x.Err)
				}
			}
			errs = append(errs, err)
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", reasonHelp())
	return cmd
}

// printRevoked prints one line for a user that revoke handled.
func (app *app) printRevoked(x authority.RevokeResult, r string) {
	switch {
	case x.Err != nil:
		return
	case x.AlreadyRevoked:
		fmt.Fprintf(app.stdio.Out, "%s: already revoked (certificate %s); CRL #%d published again\n", x.User, x.Serial, x.CRL.Number)
		return
	}
	line := fmt.Sprintf("%s: revoked certificate %s (%s)", x.User, x.Serial, r)
	if n := len(x.Serials) - 1; n > 0 {
		line += fmt.Sprintf(" and %d older one(s) still valid", n)
	}
	if x.LinksEnded > 0 {
		line += fmt.Sprintf("; %d open link(s) ended", x.LinksEnded)
	}
	if len(x.BundleRemoved) > 0 {
		line += "; bundle removed"
	}
	fmt.Fprintf(app.stdio.Out, "%s; CRL #%d lists %d\n", line, x.CRL.Number, x.CRL.Revoked)
}

func (app *app) renewCommand() *cobra.Command {
	var out string
	var reinstate bool
	var days int
	cmd := &cobra.Command{
		Use:     "renew USER",
		Short:   "Issue a user a fresh key and certificate and rewrite the bundle",
		Long:    "renew issues a new key and certificate, revokes the old one as superseded, and rewrites the bundle.",
		Example: "  vpnkeys renew alice\n  vpnkeys renew alice --days 365",
		Args:    exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDays(cmd, days); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			r, err := a.Renew(ctx, args[0], authority.AddOptions{OutDir: out, Reinstate: reinstate, Days: days})
			if err != nil {
				return err
			}
			app.printAdded(r)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "bundles folder (default DATA/bundles)")
	cmd.Flags().BoolVar(&reinstate, "reinstate", false, "give a revoked user access again (refused without it)")
	daysFlag(cmd, &days)
	return cmd
}
