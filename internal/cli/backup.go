package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

func (app *app) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent snapshot of the database while vpnkeys keeps running",
		Long: `backup writes the whole SQLite database (CA, users, certificates, CRL, servers,
links, tokens, audit log) to FILE as one consistent snapshot (SQLite's VACUUM
INTO): a running vpnkeys serve carries on meanwhile. FILE is created 0600 and
must not exist. The CA key inside stays encrypted with its passphrase; keep
the passphrase elsewhere.

On PostgreSQL use the database's own tools instead:
  pg_dump --format=custom --file vpnkeys.dump postgres://...
  pg_restore --clean --dbname postgres://... vpnkeys.dump`,
		Example: "  vpnkeys backup /var/backups/vpnkeys-$(date +%F).db\n  sudo -u vpnkeys vpnkeys backup /var/lib/vpnkeys/backup.db",
		Args:    exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if authority.IsPostgres(app.dsn) {
				return usageError{authority.ErrBackupPostgres}
			}
			ctx := withActor(cmd.Context())
			a, err := app.openExisting(ctx)
			if err != nil {
				return err
			}
			path, err := filepath.Abs(args[0])
			if err != nil {
				return usagef("backup file %q: %v", args[0], err)
			}
			if err := a.Backup(ctx, path); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "backup written to %s\n", path)
			return nil
		},
	}
}

func (app *app) restoreCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Check a backup, then put it in place of the database",
		Long: `restore checks FILE before touching anything: it opens it read-only, runs
SQLite's integrity check, and checks that its schema is one this vpnkeys
knows and that it holds a CA. Then it puts FILE in place of the data folder's
database in one rename, and upgrades its schema when it is older.

An existing database is replaced only with --force, and kept beside it as
vpnkeys.db.TIME.bak. Stop the service first (systemctl stop vpnkeys): restore
refuses while another process has the database open. The restore is recorded
in the restored database's audit log.`,
		Example: "  vpnkeys --data /srv/vpnkeys restore vpnkeys-2026-11-30.db\n  systemctl stop vpnkeys && sudo -u vpnkeys vpnkeys restore --force backup.db && systemctl start vpnkeys",
		Args:    exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if authority.IsPostgres(app.dsn) {
				return usageError{authority.ErrBackupPostgres}
			}
			ctx := withActor(cmd.Context())
			from, err := filepath.Abs(args[0])
			if err != nil {
				return usagef("backup file %q: %v", args[0], err)
			}
			kept, err := authority.RestoreDatabase(ctx, from, app.dsn, force)
			if errors.Is(err, authority.ErrBadBackup) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			a, err := app.open(ctx)
			if err != nil {
				return err
			}
			if err := a.RecordRestore(ctx, from, kept); err != nil {
				return err
			}
			fmt.Fprintf(app.stdio.Out, "restored %s into %s\n", from, app.dsnShown())
			if kept != "" {
				fmt.Fprintf(app.stdio.Out, "the replaced database is kept as %s\n", kept)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing database (kept as a .bak)")
	return cmd
}
