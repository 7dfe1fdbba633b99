package cli

import "github.com/spf13/cobra"

// addCommands adds the commands that live in files of their own (settings,
// remove, sessions, disconnect, server set|remove, admin list) to the tree
// rootCommand built.
func (app *app) addCommands(root *cobra.Command) {
	child := func(name string) *cobra.Command {
		for _, c := range root.Commands() {
			if c.Name() == name {
				return c
			}
		}
		panic("cli: no command " + name)
	}
	child("server").AddCommand(app.serverSetCommand(), app.serverRemoveCommand())
	child("admin").AddCommand(app.adminListCommand())
	root.AddCommand(app.removeCommand())
	root.AddCommand(app.sessionsCommand(), app.disconnectCommand())
	root.AddCommand(app.agentCommand()) // agent.go: join and run, on the OpenVPN host
	app.publicURLFlag(root)
	setup := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := setup(cmd, args); err != nil {
			return err
		}
		return app.checkPublicURL() // before anything is opened or created
	}
	root.AddCommand(app.settingsCommand())
	root.AddCommand(app.groupCommand(), app.accessCommand())
	root.AddCommand(app.firewallCommand())
	root.AddCommand(app.expiringCommand()) // expiring.go
	root.AddCommand(app.caCommand())       // ca_rollover.go: ca show, ca rollover
	root.AddCommand(app.selfTestCommand()) // selftest.go
	root.AddCommand(app.warningsCommand()) // warnings.go: expiry warnings
	root.AddCommand(app.bundlesCommand())  // bundles.go: bundles refresh
	// Made now rather than by Execute, so that guardParents covers it too.
	root.InitDefaultCompletionCmd()
}
