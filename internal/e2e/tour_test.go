package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReadmeTour runs README.md's "A tour" block as written, command by
// command, against the real binary: every command must exit 0. Only the
// server folder moves from /etc/openvpn/server into a temporary folder.
func TestReadmeTour(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	readme, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := tourCommands(t, string(readme))
	if len(cmds) < 10 {
		t.Fatalf("the tour has %d commands, want at least 10", len(cmds))
	}
	dir := t.TempDir()
	srvDir := filepath.Join(dir, "openvpn-server")
	env := append(os.Environ(), "VPNKEYS_DATA="+filepath.Join(dir, "data"), "VPNKEYS_CA_PASSPHRASE=readme tour passphrase")
	for _, args := range cmds {
		if args[0] != "vpnkeys" {
			t.Fatalf("tour line does not run vpnkeys: %q", args)
		}
		for i, a := range args {
			if a == "/etc/openvpn/server" {
				args[i] = srvDir
			}
		}
		cmd := exec.Command(binary(t), args[1:]...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		t.Logf("%s\n%s", strings.Join(args, " "), out.String())
	}
	conf, err := os.ReadFile(filepath.Join(srvDir, "server.conf"))
	if err != nil || !strings.Contains(string(conf), `push "dhcp-option DOMAIN corp.example.com"`) {
		t.Fatalf("server.conf from the tour: %v\n%s", err, conf)
	}
}

// tourCommands extracts the commands of the sh block after "## A tour",
// split into words as the shell would (double quotes, # comments).
func tourCommands(t *testing.T, readme string) [][]string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "## A tour\n")
	if !ok {
		t.Fatal(`README.md has no "## A tour" section`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal(`README.md's tour has no sh block`)
	}
	var cmds [][]string
	for _, line := range strings.Split(block, "\n") {
		if words := shellWords(t, line); len(words) > 0 {
			cmds = append(cmds, words)
		}
	}
	return cmds
}

// shellWords splits one line: words by blanks, "double quotes" and
// 'single quotes' kept together, a word starting with # ends the line.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words
		case strings.ContainsRune(`\$;|&<>()`+"`", r):
			t.Fatalf("tour line uses shell syntax the test does not run: %q", line)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in tour line %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
