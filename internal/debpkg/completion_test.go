package debpkg

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestBashCompletion sources the packaged bash completion in a real bash
// with Debian's bash-completion, as an interactive shell would, and asks
// it for user names from a database and for --lang and --reason values.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash := testenv.LookPath(t, "bash")
	lib := testenv.LookPath(t, "/usr/share/bash-completion/bash_completion")
	_, deb := debs(t)
	root := t.TempDir()
	dpkgDeb(t, "-x", deb, root)
	bin := filepath.Join(root, "usr", "bin")
	data := filepath.Join(t.TempDir(), "data")
	pass := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pass, []byte("completion test\n"), 0o600)
	for _, args := range [][]string{{"add", "alice", "bob", "--remote", "vpn.example.com:1194"}, {"server", "add", "dc2", "--remote", "vpn2.example.com:1194"}} {
		cmd := exec.Command(filepath.Join(bin, "vpnkeys"), append([]string{"--data", data, "--passphrase-file", pass}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("vpnkeys %v: %v\n%s", args, err, out)
		}
	}
	for _, tc := range []struct{ name, line, want string }{
		{"ok/users", "vpnkeys --data " + data + " revoke ", "alice bob"},
		{"ok/users-prefix", "vpnkeys --data " + data + " show a", "alice"},
		{"ok/servers", "vpnkeys --data " + data + " server files ", "dc2 vpn"},
		{"ok/lang", "vpnkeys add carol --lang ", "en es fr de ru"},
		{"ok/reason", "vpnkeys revoke alice --reason key", "key-compromise"},
		{"ok/subcommands", "vpnkeys back", "backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := `source "$1"; source "$2"
read -ra COMP_WORDS <<< "$3"
[[ "$3" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$3"; COMP_POINT=${#COMP_LINE}
__start_vpnkeys 2>/dev/null
echo "${COMPREPLY[*]}"`
			cmd := exec.Command(bash, "-c", script, "bash", lib,
				filepath.Join(root, "usr/share/bash-completion/completions/vpnkeys"), tc.line)
			cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
			out, err := cmd.Output()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
				t.Errorf("completing %q: got %q (%v), want %q", tc.line, got, err, tc.want)
			}
		})
	}
}
