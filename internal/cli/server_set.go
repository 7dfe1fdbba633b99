package cli

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

func (app *app) serverSetCommand() *cobra.Command {
	var c authority.ServerChange
	var push ovpn.Push
	cmd := &cobra.Command{
		Use:   "set NAME [--remote HOST:PORT[/udp|/tcp]] [--subnet CIDR] [--push-route CIDR]... [--dns IP]... [--domain D] [--tls-mode MODE]",
		Short: "Change a server's remote (host, port, protocol), subnet, pushed routes, DNS or control channel",
		Long: `server set changes a registered server. Profiles written afterwards carry the
change; rewrite the server's files (vpnkeys server files NAME --out DIR) for it
to reach them. A new --remote or --tls-mode also re-renders the bundle folders
in DATA/bundles (it asks for the CA passphrase then; without one at hand,
run vpnkeys bundles refresh later), and employees holding a profile made
before need a new download (vpnkeys send USER, or vpnkeys link USER).

--push-route and --dns replace the whole list when given (give them once with
"" to push none); --domain "" pushes no domain.

--tls-mode tls-crypt|tls-auth|tls-crypt-v2 switches the control channel: the
change is audited and agents install the server's new files at once; every
profile rendered afterwards follows it (servers of different modes get one
profile each: USER.ovpn, USER-MODE.ovpn), and users need a new profile for
this server.`,
		Example: "  vpnkeys server set dc1 --remote vpn1.example.com:443/tcp\n  vpnkeys server set dc2 --subnet 10.9.0.0/24\n  vpnkeys server set dc1 --push-route 10.1.0.0/16 --dns 10.1.0.53 --domain corp.example.com\n  vpnkeys server set dc1 --tls-mode tls-auth",
		Args:    exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.Name = args[0]
			fl := cmd.Flags()
			if fl.Changed("push-route") {
				c.PushRoutes = &push.Routes
			}
			if fl.Changed("dns") {
				c.DNS = &push.DNS
			}
			if fl.Changed("domain") {
				c.Domain = &push.Domain
			}
			if c.Remote == "" && c.Subnet == "" && c.PushRoutes == nil && c.DNS == nil && c.Domain == nil && c.TLSMode == "" {
				return usagef("nothing to change: give --remote, --subnet, --push-route, --dns, --domain or --tls-mode")
			}
			if err := checkTLSMode(c.TLSMode); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if c.Remote != "" || c.TLSMode != "" {
				if err := app.unlockForBundles(ctx, a); err != nil {
					return err
				}
			}
			s, err := a.SetServer(ctx, c)
			if err != nil {
				return err
			}
			if c.TLSMode != "" {
				printTLSModeSet(app, s)
			}
			fmt.Fprintf(app.stdio.Out, "server %s now at %s, clients from %s; rewrite its files with 'vpnkeys server files %s --out DIR'\n",
				s.Name, s.Remote, s.Subnet, s.Name)
			if c.Remote != "" || c.TLSMode != "" {
				fmt.Fprintln(app.stdio.Out, "employees holding a profile made before need a new download: 'vpnkeys send USER' or a link ('vpnkeys link USER')")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&c.Remote, "remote", "", "where clients reach it: HOST:PORT[/udp|/tcp]")
	cmd.Flags().StringVar(&c.Subnet, "subnet", "", "the clients' address pool (IPv4 CIDR)")
	pushFlags(cmd, &push)
	tlsModeFlag(cmd, &c.TLSMode)
	return cmd
}

func (app *app) serverRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Unregister a server and revoke its certificate",
		Long: `server remove unregisters a server: profiles written afterwards no longer list
it, its certificate is revoked (cessation of operation) and the CRL re-signed,
and vpnkeys stops refreshing crl.pem in the folders its files went to. Those
files are left where they are (stop that OpenVPN and delete them yourself).
The last server cannot go while users have access.`,
		Example:    "  vpnkeys server remove dc3",
		SuggestFor: []string{"delete", "rm", "del"},
		Args:       exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			outs, err := a.RemoveServer(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "server %s removed and its certificate revoked\n", args[0])
			for _, o := range outs {
				fmt.Fprintf(app.stdio.Out, "its files stay in %s on %s; vpnkeys no longer refreshes them\n", o.Dir, o.Host)
			}
			return nil
		},
	}
}

func (app *app) removeCommand() *cobra.Command {
	var reason, out string
	cmd := &cobra.Command{
		Use:   "remove USER...",
		Short: "Take users away for good: revoke, delete their bundles and open links",
		Long: `remove revokes each user's active certificate (as revoke does: CRL re-signed,
every crl.pem rewritten), deletes their bundle folder and archives and their
links not used yet. Their record, certificate history and audit events stay
(vpnkeys show USER, vpnkeys audit --target USER), and the CRL keeps listing
their serials. Adding the name again later takes add --reinstate.`,
		Example:    "  vpnkeys remove alice\n  vpnkeys remove bob --reason affiliation-changed",
		SuggestFor: []string{"delete", "rm", "del"},
		Args:       minArgs(1, "USER: name at least one user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := authority.ValidReason(reason); err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			for _, u := range args {
				res, err := a.RemoveUser(ctx, u, out, reason)
				if err != nil {
					return err
				}
				what := "no active certificate"
				if res.Revoked != "" {
					what = fmt.Sprintf("revoked certificate %s (%s); CRL #%d", res.Revoked, reasonOrDefault(reason), res.CRL.Number)
				}
				fmt.Fprintf(app.stdio.Out, "%s: removed: %s, bundle deleted, %d open links deleted\n", u, what, res.Links)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", reasonHelp())
	cmd.Flags().StringVar(&out, "out", "", "bundles folder (default DATA/bundles)")
	return cmd
}

func (app *app) adminListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List web admins and their live sessions",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.open(cmd.Context())
			if err != nil {
				return err
			}
			admins, err := a.Admins(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if admins == nil {
					return writeJSON(app, []any{})
				}
				return writeJSON(app, admins)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCREATED\tSESSIONS\tLAST SEEN")
			at := func(s int64) string {
				if s == 0 {
					return "-"
				}
				return time.Unix(s, 0).UTC().Format(time.DateTime)
			}
			for _, ad := range admins {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ad.Name, at(ad.CreatedAt), ad.Sessions, at(ad.LastSeen))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// pushFlags registers --push-route, --dns and --domain into p. An empty
// value ("") is dropped, so --push-route "" clears the list in server set.
func pushFlags(cmd *cobra.Command, p *ovpn.Push) {
	cmd.Flags().StringArrayVar(&p.Routes, "push-route", nil, "route to push to clients, an IPv4 CIDR (repeatable)")
	cmd.Flags().StringArrayVar(&p.DNS, "dns", nil, "DNS server to push to clients, an IP address (repeatable)")
	cmd.Flags().StringVar(&p.Domain, "domain", "", "DNS search domain to push to clients")
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		p.Routes, p.DNS = slices.DeleteFunc(p.Routes, isEmpty), slices.DeleteFunc(p.DNS, isEmpty)
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

func isEmpty(s string) bool { return strings.TrimSpace(s) == "" }

// pushSummary is a server's pushes on one line for server list.
func pushSummary(p ovpn.Push) string {
	var parts []string
	if len(p.Routes) > 0 {
		parts = append(parts, "routes "+strings.Join(p.Routes, ","))
	}
	if len(p.DNS) > 0 {
		parts = append(parts, "dns "+strings.Join(p.DNS, ","))
	}
	if p.Domain != "" {
		parts = append(parts, "domain "+p.Domain)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}
