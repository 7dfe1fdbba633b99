package agent

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestLive: with a real OpenVPN server and real clients, the agent ends
// exactly the sessions the state says must end: a revoked certificate's,
// the old certificate's after a renewal (the new one stays), a
// disconnected user's (a later login stays); and, with the control plane
// down, it starts from state.json and still ends a revoked session.
func TestLive(t *testing.T) {
	top := t // clients started in a step outlive it
	l := startLive(t, "alice", "bob", "carol-old", "carol-new", "erin")
	alice, bob := l.connect(t, "alice"), l.connect(t, "bob")
	carolOld, carolNew := l.connect(t, "carol-old"), l.connect(t, "carol-new")

	t.Run("ok/sessions reported with their certificates", func(t *testing.T) {
		want := l.want("alice", "bob", "carol-old", "carol-new")
		l.cp.waitReport(t, "sessions "+want, func(r agentwire.Report) bool { return r.Management && sessions(r) == want })
		// The hook runs as nobody: the agent handed it the session folder.
		checkOwner(t, filepath.Join(l.run, "dc1.sessions"), 0o700, "nobody")
		checkOwner(t, l.run, 0o755, "root")
	})
	t.Run("ok/revoked serial ends only that session", func(t *testing.T) {
		st := l.revoke(t, 2, "alice")
		st.Revoked[0] = strings.TrimLeft(strings.ToLower(st.Revoked[0]), "0") // compared as numbers
		l.cp.set(st)
		halted(t, "alice", alice, "access revoked")
		want := l.want("bob", "carol-old", "carol-new")
		l.cp.waitReport(t, "sessions "+want, func(r agentwire.Report) bool { return sessions(r) == want })
		running(t, map[string]*testenv.Proc{"bob": bob, "carol-old": carolOld, "carol-new": carolNew})
	})
	t.Run("ok/renewal ends only the old certificate's session", func(t *testing.T) {
		l.cp.set(l.revoke(t, 3, "alice", "carol-old"))
		halted(t, "carol-old", carolOld, "access revoked")
		want := l.want("bob", "carol-new")
		l.cp.waitReport(t, "sessions "+want, func(r agentwire.Report) bool { return sessions(r) == want })
		running(t, map[string]*testenv.Proc{"bob": bob, "carol-new": carolNew})
	})
	t.Run("ok/end disconnects without revoking; a later login stays", func(t *testing.T) {
		st := l.revoke(t, 3, "alice", "carol-old")
		st.End = []agentwire.End{{ID: 1, User: "bob", Before: time.Now(), Reason: "test"}}
		l.cp.set(st)
		halted(t, "bob", bob, "disconnected by an administrator")
		// Connected Since has whole seconds: log in again a second later.
		time.Sleep(1100 * time.Millisecond)
		bob = l.connect(top, "bob")
		want := l.want("bob", "carol-new")
		// The old session was ended and is no longer listed: a report
		// after the third kill that lists bob lists his new session.
		rep := l.cp.waitReport(t, "sessions "+want+" after 3 kills", func(r agentwire.Report) bool { return sessions(r) == want && r.Kills >= 3 })
		if rep.Kills != 3 || rep.Version != 4 || rep.CRLNumber != 3 {
			t.Errorf("report: got kills %d, version %d, CRL %d; want 3, 4, 3", rep.Kills, rep.Version, rep.CRLNumber)
		}
		running(t, map[string]*testenv.Proc{"bob": bob, "carol-new": carolNew})
	})
	t.Run("ok/control plane down: state.json enforced at start", func(t *testing.T) {
		l.stop()
		l.cp.srv.Close()
		erin := l.connect(top, "erin")
		// The agent had applied a state revoking erin, then stopped before
		// its sweep; the control plane is now unreachable.
		st := l.revoke(t, 4, "alice", "carol-old", "erin")
		st.Server, st.Version = "dc1", 5
		st.Hash = hashOf(st)
		if err := saveState(l.cfg.StateDir, st); err != nil {
			t.Fatal(err)
		}
		l.startAgent(top)
		halted(t, "erin", erin, "access revoked")
		running(t, map[string]*testenv.Proc{"bob": bob, "carol-new": carolNew})
		if !waitLog(l.log, "control plane: retrying") {
			t.Errorf("the agent did not retry the control plane:\n%s", l.log.String())
		}
	})
}

func checkOwner(t *testing.T, path string, mode os.FileMode, owner string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.LookupId(strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)))
	if err != nil || u.Username != owner || fi.Mode().Perm() != mode {
		t.Errorf("%s: got mode %04o owner %v, want %04o %s", path, fi.Mode().Perm(), u, mode, owner)
	}
}

// waitLog waits (10 s at most) for sub in the agent's log.
func waitLog(l *lockedBuffer, sub string) bool {
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(l.String(), sub) {
			return true
		}
	}
	return false
}
