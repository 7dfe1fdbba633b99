package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (app *app) adminCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Manage web UI admin accounts"}
	var pwFile string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a web admin (or set a new password); the password is asked twice",
		Long: `admin add creates an account for the web pages, or sets a new password (which
ends the admin's sessions). The password is asked twice on a terminal, or read
from --password-file or VPNKEYS_ADMIN_PASSWORD; it is stored as an argon2id hash.
At least 12 characters.`,
		Example: "  vpnkeys admin add ann\n  vpnkeys admin add ci-admin --password-file /root/admin.pass",
		Args:    exactArgs(1, "one admin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := app.adminPassword(pwFile)
			if err != nil {
				return err
			}
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := a.SetAdmin(ctx, args[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "admin %s can sign in\n", args[0])
			return nil
		},
	}
	add.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file")
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Delete a web admin and end their sessions",
		Args:  exactArgs(1, "one admin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := a.RemoveAdmin(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "admin %s removed\n", args[0])
			return nil
		},
	}
	logout := &cobra.Command{
		Use:   "logout NAME",
		Short: "End every session of a web admin (audited as admin.logout)",
		Args:  exactArgs(1, "one admin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			n, err := a.EndSessions(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "%d sessions of %s ended\n", n, args[0])
			return nil
		},
	}
	cmd.AddCommand(add, remove, logout)
	return cmd
}

func (app *app) adminPassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading password file: %w", err)
		}
		return string(bytes.TrimRight(b, "\r\n")), nil
	}
	if v := os.Getenv("VPNKEYS_ADMIN_PASSWORD"); v != "" {
		return v, nil
	}
	f, ok := app.stdio.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no password: give --password-file FILE or set VPNKEYS_ADMIN_PASSWORD, or run on a terminal")
	}
	p1, err := readHidden(f, app.stdio.Err, "Password: ")
	if err != nil {
		return "", err
	}
	p2, err := readHidden(f, app.stdio.Err, "Again: ")
	if err != nil {
		return "", err
	}
	if !bytes.Equal(p1, p2) {
		return "", usagef("the passwords differ")
	}
	return string(p1), nil
}
