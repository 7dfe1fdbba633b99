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
	return a.db.WithTx(ctx, func(q *store.Queries) error {
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
	return a.db.WithTx(ctx, func(q *store.Queries) error {
		return a.audit(ctx, q, "db.restore", from, detail)
	})
}
