package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// guardParents makes every command that only groups subcommands (root,
// server, token, admin, ...) refuse an unknown subcommand with a usage
// error naming it and the nearest known one. Left alone, cobra prints the
// help and exits 0 for them, so `vpnkeys token revok ci` would look as if
// it had worked while the token stays valid.
func guardParents(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		guardParents(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownCommand(cmd, args[0])
	}
}

// unknownCommand is the one-line error for a word that names no
// subcommand of cmd.
func unknownCommand(cmd *cobra.Command, word string) error {
	where := ""
	if cmd.HasParent() {
		where = fmt.Sprintf(" for %q", cmd.CommandPath())
	}
	if s := nearestCommand(cmd, word); s != "" {
		return usagef("unknown command %q%s; did you mean %q?", word, where, s)
	}
	return usagef("unknown command %q%s; run '%s --help' for the list", word, where, cmd.CommandPath())
}

// nearestCommand picks, among cobra's suggestions for word (edit distance
// or prefix), the one closest by edit distance; "" when none.
func nearestCommand(cmd *cobra.Command, word string) string {
	best, bestD := "", -1
	for _, s := range cmd.SuggestionsFor(word) {
		if d := editDistance(strings.ToLower(word), s); bestD < 0 || d < bestD {
			best, bestD = s, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
