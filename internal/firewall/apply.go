package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// maxNftMessage caps how much of nft's complaint an error carries (a
// ruleset of 10,000 users could make it long).
const maxNftMessage = 4096

// Check asks the kernel whether it would accept ruleset (`nft -c -f -`),
// changing nothing. nftPath is the nft binary (/usr/sbin/nft on Debian).
func Check(ctx context.Context, nftPath, ruleset string) error {
	if err := runNft(ctx, nftPath, ruleset, "-c", "-f", "-"); err != nil {
		return fmt.Errorf("checking nftables ruleset: %w", err)
	}
	return nil
}

// Apply loads ruleset (`nft -f -`) as one transaction: on error nothing
// changed, the previous table stays in force, and the error carries nft's
// message.
func Apply(ctx context.Context, nftPath, ruleset string) error {
	if err := runNft(ctx, nftPath, ruleset, "-f", "-"); err != nil {
		return fmt.Errorf("applying nftables ruleset: %w", err)
	}
	return nil
}

// Remove deletes vpnkeys' table, if there is one (for a server that is no
// longer vpnkeys'), leaving every other table alone.
func Remove(ctx context.Context, nftPath string) error {
	if err := runNft(ctx, nftPath, "table "+Table+"\ndelete table "+Table+"\n", "-f", "-"); err != nil {
		return fmt.Errorf("removing nftables table: %w", err)
	}
	return nil
}

// runNft runs nft with args and ruleset on stdin. The ruleset goes through
// a pipe, never argv, and is never logged.
func runNft(ctx context.Context, nftPath, ruleset string, args ...string) error {
	cmd := exec.CommandContext(ctx, nftPath, args...)
	cmd.Stdin = strings.NewReader(ruleset)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(out.String())
	if len(msg) > maxNftMessage {
		msg = msg[:maxNftMessage] + " [...]"
	}
	var exit *exec.ExitError
	if msg == "" || !errors.As(err, &exit) {
		return fmt.Errorf("running %s: %w", nftPath, err)
	}
	return fmt.Errorf("nft refused it: %s: %w", msg, err)
}
