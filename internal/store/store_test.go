package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store"
	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
	"github.com/vpnkeys/vpnkeys/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		return open(t, filepath.Join(t.TempDir(), "vpnkeys.db"))
	})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return open(t, pgtest.Start(t)) })
}

// TestMigrateTwice: opening a migrated database again changes nothing, on
// both backends, and the schema history is the same.
func TestMigrateTwice(t *testing.T) {
	for name, dsn := range map[string]string{"sqlite": filepath.Join(t.TempDir(), "x.db"), "postgres": pgtest.Start(t)} {
		t.Run(name, func(t *testing.T) {
			open(t, dsn)
			db := open(t, dsn)
			var versions int
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil || versions < 1 {
				t.Fatalf("schema_migrations: got %d %v", versions, err)
			}
		})
	}
}
