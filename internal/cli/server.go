package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) serverCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Register OpenVPN servers and write their files",
	}
	var req authority.ServerRequest
	add := &cobra.Command{
		Use:   "add NAME --remote HOST:PORT[/udp|/tcp]",
		Short: "Register an OpenVPN server (one per datacenter)",
		Long: `server add registers a server. Every profile issued afterwards lists all
registered servers as remotes, in the order they were added, and fails over
from one to the next.`,
		Example: "  vpnkeys server add dc1 --remote vpn1.example.com:1194/udp\n  vpnkeys server add dc2 --remote 203.0.113.7:443/tcp --subnet 10.9.0.0/24",
		Args:    exactArgs(1, "one server NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.Remote == "" {
				return usagef("--remote HOST:PORT is required")
			}
			req.Name = args[0]
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			s, err := a.AddServer(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "server %s registered at %s:%d/%s, clients from %s\n", s.Name, s.Host, s.Port, s.Proto, s.Subnet)
			return nil
		},
	}
	add.Flags().StringVar(&req.Remote, "remote", "", "where clients reach it: HOST:PORT[/udp|/tcp]")
	add.Flags().StringVar(&req.Subnet, "subnet", authority.DefaultSubnet, "the clients' address pool (IPv4 CIDR)")

	var out string
	files := &cobra.Command{
		Use:   "files NAME --out DIR",
		Short: "Write everything a server needs: server.conf, ca.crt, server.crt, server.key, ta.key, crl.pem",
		Long: `server files writes the server's files into DIR, ready for /etc/openvpn/server on
Debian (systemctl enable --now openvpn-server@server). vpnkeys remembers DIR and
rewrites its crl.pem on every revocation made on this machine.`,
		Example: "  vpnkeys server files dc1 --out /etc/openvpn/server",
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
			if err := a.WriteServerFiles(ctx, args[0], out); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "server %s: files written to %s\n", args[0], out)
			return nil
		},
	}
	files.Flags().StringVar(&out, "out", "", "folder to write into")

	list := &cobra.Command{
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
			fmt.Fprintln(tw, "NAME\tREMOTE\tSUBNET")
			for _, s := range servers {
				fmt.Fprintf(tw, "%s\t%s:%d/%s\t%s\n", s.Name, s.Host, s.Port, s.Proto, s.Subnet)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, files, list)
	return cmd
}
