package cli

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) serverCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Register OpenVPN servers and write their files",
	}
	cmd.AddCommand(app.serverAddCommand(), app.serverFilesCommand(), app.serverListCommand(), app.serverEnrollCommand())
	cmd.AddCommand(app.serverStatusCommand())
	return cmd
}

func (app *app) serverAddCommand() *cobra.Command {
	var req authority.ServerRequest
	add := &cobra.Command{
		Use:   "add NAME --remote HOST:PORT[/udp|/tcp] [--tls-mode MODE]",
		Short: "Register an OpenVPN server (one per datacenter)",
		Long: `server add registers a server. Every profile issued afterwards lists all
registered servers as remotes, in the order they were added, and fails over
from one to the next.`,
		Example: "  vpnkeys server add dc1 --remote vpn1.example.com:1194/udp\n  vpnkeys server add dc2 --remote 203.0.113.7:443/tcp --subnet 10.9.0.0/24\n  vpnkeys server add dc3 --remote vpn3.example.com --push-route 10.1.0.0/16 --push-route 10.2.0.0/16 --dns 10.1.0.53 --domain corp.example.com\n  vpnkeys server add dc4 --remote vpn4.example.com:1194 --tls-mode tls-crypt-v2",
		Args:    exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.Remote == "" {
				return usagef("--remote HOST:PORT is required")
			}
			if err := checkDays(cmd, req.Days); err != nil {
				return err
			}
			if err := checkTLSMode(req.TLSMode); err != nil {
				return err
			}
			req.Name = args[0]
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := app.unlockForBundles(ctx, a); err != nil {
				return err
			}
			s, err := a.AddServer(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "server %s registered at %s, clients from %s, control channel %s\n", s.Name, s.Remote, s.Subnet, s.TLSMode)
			return nil
		},
	}
	add.Flags().StringVar(&req.Remote, "remote", "", "where clients reach it: HOST:PORT[/udp|/tcp]")
	add.Flags().StringVar(&req.Subnet, "subnet", authority.DefaultSubnet, "the clients' address pool (IPv4 CIDR)")
	pushFlags(add, &req.Push)
	daysFlag(add, &req.Days)
	tlsModeFlag(add, &req.TLSMode)
	return add
}

func (app *app) serverFilesCommand() *cobra.Command {
	var out string
	var force bool
	files := &cobra.Command{
		Use:   "files NAME --out DIR",
		Short: "Write everything a server needs: server.conf, ca.crt, server.crt, server.key, ta.key, crl.pem",
		Long: `server files writes the server's files into DIR, ready for /etc/openvpn/server on
Debian (systemctl enable --now openvpn-server@server). vpnkeys remembers DIR and
rewrites its crl.pem on every revocation made on this machine.

It records what it wrote in DIR/.vpnkeys-files (a SHA-256 per file) and
refuses to replace a file it did not write, or one edited since (a
hand-tuned server.conf), unless --force; forced, it keeps each such file as
FILE.bak-TIMESTAMP with its mode. crl.pem is always vpnkeys' own.`,
		Example: "  vpnkeys server files dc1 --out /etc/openvpn/server\n  vpnkeys server files dc1 --out /etc/openvpn/server --force   # after editing server.conf by hand",
		Args:    exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required")
			}
			ctx := withActor(cmd.Context())
			a, err := app.unlocked(ctx)
			if err != nil {
				return err
			}
			baks, err := a.WriteServerFilesTo(ctx, args[0], out, force)
			for _, b := range baks {
				fmt.Fprintf(app.stdio.Out, "kept the previous file as %s\n", filepath.Join(out, b))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "server %s: files written to %s\n", args[0], out)
			if err := authority.CheckServerDir(out); err != nil {
				fmt.Fprintln(app.stdio.Err, "vpnkeys: warning: "+oneLine(err))
			}
			return nil
		},
	}
	files.Flags().StringVar(&out, "out", "", "folder to write into")
	files.Flags().BoolVar(&force, "force", false, "replace files vpnkeys did not write (or that changed since), keeping each as FILE.bak-TIME")
	return files
}

func (app *app) serverListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List registered servers",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			servers, err := a.Servers(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tREMOTE\tSUBNET\tTLS MODE\tPUSHES")
			for _, s := range servers {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Remote, s.Subnet, s.TLSMode, pushSummary(s.Push))
			}
			return tw.Flush()
		},
	}
}
