package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// ruleHelp is how every group command spells a rule.
const ruleHelp = `A RULE is DEST[:PROTO[/PORTS]]: DEST an IPv4 or IPv6 address or CIDR (an IPv6
one with a protocol in brackets: [2001:db8::1]:tcp/443), PROTO tcp, udp or icmp
(none: every protocol), PORTS a comma list of ports and ranges (22,443,8000-8100).
A rule that reaches a whole address family (0.0.0.0/0, ::/0) takes --i-mean-it.`

func (app *app) groupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Groups: which destinations their members may reach through the VPN",
		Long: `A group names destinations (rules); its members may reach them through the VPN,
on every server, and nothing else. A change reaches the servers' agents at once.

` + ruleHelp,
	}
	cmd.AddCommand(app.groupAddCommand(), app.groupRuleCommand(true), app.groupRuleCommand(false),
		app.groupShowCommand(), app.groupListCommand(), app.groupRemoveCommand(), app.groupMembersCommand())
	return cmd
}

func (app *app) groupAddCommand() *cobra.Command {
	var allow []string
	var desc string
	var iMeanIt bool
	cmd := &cobra.Command{
		Use:   "add NAME [--allow RULE]... [--description D] [--i-mean-it]",
		Short: "Create a group with the destinations its members may reach",
		Long:  "group add creates a group. Put users in it with 'vpnkeys group members add' or 'vpnkeys add USER --group NAME'.\n\n" + ruleHelp,
		Example: `  vpnkeys group add developers --allow 10.1.0.0/16:tcp/22,443 --allow 10.1.5.3:udp/53
  vpnkeys group add admins --allow 10.0.0.0/8 --description "Infrastructure team"`,
		Args: exactArgs(1, "one group NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			g, err := a.AddGroup(ctx, args[0], desc, allow, iMeanIt)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "group %s added with %d rules\n", g.Name, len(g.Rules))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&allow, "allow", nil, "a destination the members may reach, DEST[:PROTO[/PORTS]] (repeatable)")
	cmd.Flags().StringVar(&desc, "description", "", "what the group is for")
	cmd.Flags().BoolVar(&iMeanIt, "i-mean-it", false, "accept a rule that reaches every destination (0.0.0.0/0, ::/0)")
	return cmd
}

// groupRuleCommand is group allow (allow) or group deny.
func (app *app) groupRuleCommand(allow bool) *cobra.Command {
	var iMeanIt bool
	cmd := &cobra.Command{
		Use:     "allow GROUP RULE...",
		Short:   "Let a group's members reach more destinations",
		Long:    "group allow adds rules to a group.\n\n" + ruleHelp,
		Example: "  vpnkeys group allow developers 10.1.7.0/24:tcp/5432",
		Args:    minArgs(2, "a GROUP and at least one RULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			var g authority.GroupView
			if allow {
				g, err = a.AllowRules(ctx, args[0], args[1:], iMeanIt)
			} else {
				g, err = a.DenyRules(ctx, args[0], args[1:])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "group %s now has %d rules: %s\n", g.Name, len(g.Rules), orNone(g.Rules))
			return nil
		},
	}
	if allow {
		cmd.Flags().BoolVar(&iMeanIt, "i-mean-it", false, "accept a rule that reaches every destination (0.0.0.0/0, ::/0)")
		return cmd
	}
	cmd.Use = "deny GROUP RULE..."
	cmd.Short = "Take destinations away from a group (each RULE must be one of its rules)"
	cmd.Long = "group deny takes rules away from a group; a rule is matched in its canonical form,\nso 10.1.5.3/32:UDP/53 takes away 10.1.5.3:udp/53. Established connections\nthe rule allowed are cut.\n\n" + ruleHelp
	cmd.Example = "  vpnkeys group deny developers 10.1.5.3:udp/53"
	return cmd
}

func (app *app) groupShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a group's rules and members",
		Example: "  vpnkeys group show developers\n  vpnkeys group show developers --json",
		Args:    exactArgs(1, "one group NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			g, err := a.Group(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, g)
			}
			w := app.stdio.Out
			fmt.Fprintf(w, "group:       %s\ndescription: %s\nmembers:     %s\nrules:\n", g.Name, g.Description, orNone(g.Members))
			for _, r := range g.Rules {
				fmt.Fprintf(w, "  %s\n", r)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (app *app) groupListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List groups",
		Example: "  vpnkeys group list\n  vpnkeys group list --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			groups, err := a.Groups(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if groups == nil {
					groups = []authority.GroupView{}
				}
				return writeJSON(app, groups)
			}
			tw := tabwriter.NewWriter(app.stdio.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tMEMBERS\tRULES\tDESCRIPTION")
			for _, g := range groups {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", g.Name, len(g.Members), orNone(g.Rules), g.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (app *app) groupRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:        "remove NAME",
		Short:      "Delete a group: its members lose what only it allowed",
		Example:    "  vpnkeys group remove contractors",
		SuggestFor: []string{"delete", "rm", "del"},
		Args:       exactArgs(1, "one group NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			if err := a.RemoveGroup(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "group %s removed\n", args[0])
			return nil
		},
	}
}

func (app *app) groupMembersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "Put users in a group or take them out",
	}
	for _, add := range []bool{true, false} {
		sub := &cobra.Command{
			Use:     "add GROUP USER...",
			Short:   "Put users in a group (each must exist; all or none are added)",
			Example: "  vpnkeys group members add developers alice bob",
			Args:    minArgs(2, "a GROUP and at least one USER"),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := withActor(cmd.Context())
				a, err := app.openExisting(ctx)
				if err != nil {
					return err
				}
				var g authority.GroupView
				if add {
					g, err = a.AddMembers(ctx, args[0], args[1:]...)
				} else {
					g, err = a.RemoveMembers(ctx, args[0], args[1:]...)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(app.stdio.Out, "group %s now has %d members: %s\n", g.Name, len(g.Members), orNone(g.Members))
				return nil
			},
		}
		if !add {
			sub.Use, sub.Example = "remove GROUP USER...", "  vpnkeys group members remove developers bob"
			sub.Short = "Take users out of a group (each must be a member; all or none are taken out)"
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

func (app *app) accessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Ask what a user may reach",
	}
	var asJSON bool
	check := &cobra.Command{
		Use:   "check USER HOST:PORT/PROTO",
		Short: "Tell whether a user may reach a destination, and which group's rule decides",
		Long: `access check answers whether USER may reach HOST:PORT/PROTO (PROTO tcp or udp;
HOST/icmp for ICMP; an IPv6 HOST in brackets) through the VPN by the rules of
their groups, and names the group and rule that allow it. The first group by
name with a matching rule decides.

It prints "allowed by group G (rule R)" or "denied: no group of USER allows
TARGET" and exits 0 either way: the answer is the output (with --json, the
"allowed" field). It exits 2 for a bad USER or TARGET, as every command does.`,
		Example: "  vpnkeys access check alice 10.1.0.5:22/tcp\n  vpnkeys access check bob '[2001:db8::1]:443/tcp' --json",
		Args:    exactArgs(2, "a USER and a HOST:PORT/PROTO"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := app.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			v, err := a.AccessCheck(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(app, v)
			}
			fmt.Fprintln(app.stdio.Out, v.String())
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(check)
	return cmd
}

// printAccess prints a user's groups and addresses for show.
func printAccess(w io.Writer, groups []string, addrs []authority.AddressView) {
	parts := make([]string, len(addrs))
	for i, x := range addrs {
		parts[i] = x.Server + " " + x.Address
	}
	fmt.Fprintf(w, "groups:   %s\naddresses: %s\n", orNone(groups), orNone(parts))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, ", ")
}
