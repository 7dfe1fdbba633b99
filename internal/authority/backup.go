package authority

import (
	"context"
	"fmt"

	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Backup writes a consistent snapshot of the database to path (see
// store.DB.Backup) while the service carries on, and records it in the
// audit log once the file is complete; the snapshot itself ends just
// before that record.
func (a *Authority) Backup(ctx context.Context, path string) error {
	if err := a.db.Backup(ctx, path); err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "db.backup", path, nil)
	})
}

// RecordRestore writes the audit record of a restore into the restored
// database: from which file, and where the replaced database was kept.
func (a *Authority) RecordRestore(ctx context.Context, from, kept string) error {
	detail := map[string]any{}
	if kept != "" {
		detail["kept"] = kept
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "db.restore", from, detail)
	})
}

// Backup and restore refusals, from the store.
var (
	// ErrBackupPostgres: PostgreSQL is backed up with its own tools.
	ErrBackupPostgres = store.ErrBackupPostgres
	// ErrBadBackup: the file is not a vpnkeys backup this version can use.
	ErrBadBackup = store.ErrBadBackup
)

// RestoreDatabase checks the backup at from, then puts it in place of the
// SQLite database at dsn (see store.Restore): with force an existing
// database is replaced and kept beside it, whose name is returned. Record
// it with RecordRestore on the restored database.
func RestoreDatabase(ctx context.Context, from, dsn string, force bool) (kept string, err error) {
	return store.Restore(ctx, from, dsn, force)
}
