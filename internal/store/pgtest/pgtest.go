// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb and
// pg_ctl from Debian's /usr/lib/postgresql/*/bin, in a temporary folder,
// listening on 127.0.0.1 only, started once per test binary and stopped by
// Main. Each test gets a fresh database of its own. When PostgreSQL is not
// installed the test fails under CI (CI=true) and is skipped elsewhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

type cluster struct {
	bin  string
	dir  string
	port int
	cred *syscall.Credential
	err  error
}

var (
	once   sync.Once
	shared *cluster
)

// Main runs the tests, then stops the shared cluster and removes its folder.
// Use it as `func TestMain(m *testing.M) { pgtest.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil && shared.err == nil {
		shared.stop()
	}
	os.Exit(code)
}

// Start returns the DSN of a fresh, empty database on the shared cluster,
// dropped when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	once.Do(func() { shared = startCluster() })
	if shared.err != nil {
		testenv.Missing(t, "PostgreSQL: %v", shared.err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", shared.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", shared.dsn("postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return shared.dsn(name)
}

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func findBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) < version(matches[j]) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() *cluster {
	c := &cluster{}
	if c.bin, c.err = findBin(); c.err != nil {
		return c
	}
	if c.dir, c.err = os.MkdirTemp("", "vpnkeys-pg-*"); c.err != nil {
		return c
	}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the cluster as postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			c.err = fmt.Errorf("running as root needs the postgres user: %w", err)
			return c
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if c.err = os.Chown(c.dir, uid, gid); c.err != nil {
			return c
		}
	}
	data := filepath.Join(c.dir, "data")
	if c.err = c.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); c.err != nil {
		return c
	}
	if c.port, c.err = freePort(); c.err != nil {
		return c
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", c.port, c.dir)
	c.err = c.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start")
	if c.err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.err = fmt.Errorf("%w\n%s", c.err, log)
	}
	return c
}

func (c *cluster) run(prog string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", prog, err, out)
	}
	return nil
}

func (c *cluster) stop() {
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}
