package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// initBudget is what package initialisation may allocate, in bytes, summed
// over every package of the binary. Every CLI run pays for it, so values
// that cost (an argon2id hash: 19 MiB; parsed templates) are made on first
// use instead. About 680,000 today.
const initBudget = 4_000_000

// TestInitCost builds vpnkeys, runs `vpnkeys --help` with
// GODEBUG=inittrace=1 and sums the bytes each package's init allocated.
// Allocation counts are deterministic; no time is measured.
func TestInitCost(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vpnkeys")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vpnkeys --help: %v\n%s", err, stderr.String())
	}
	total, top, topBytes, lines := 0, "", 0, 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "init ") {
			continue
		}
		n, err := initBytes(line)
		if err != nil {
			t.Fatalf("reading %q: %v", line, err)
		}
		lines++
		total += n
		if n > topBytes {
			top, topBytes = strings.Fields(line)[1], n
		}
	}
	if lines == 0 {
		t.Fatalf("no init lines in stderr:\n%s", stderr.String())
	}
	t.Logf("%d packages initialised, %d bytes; most: %s, %d bytes", lines, total, top, topBytes)
	if total > initBudget {
		t.Fatalf("package initialisation allocates %d bytes, want at most %d; most: %s, %d bytes", total, initBudget, top, topBytes)
	}
}

// initBytes reads N from "init PKG @T ms, C ms clock, N bytes, A allocs".
func initBytes(line string) (int, error) {
	f := strings.Fields(line)
	for i := 1; i < len(f); i++ {
		if f[i] == "bytes," {
			return strconv.Atoi(f[i-1])
		}
	}
	return 0, strconv.ErrSyntax
}
