package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// tlsModeFlag adds --tls-mode to server add and server set.
func tlsModeFlag(cmd *cobra.Command, mode *string) {
	cmd.Flags().StringVar(mode, "tls-mode", "", "control channel: tls-crypt (default), tls-auth or tls-crypt-v2")
}

// checkTLSMode refuses an unknown --tls-mode before anything is opened.
func checkTLSMode(mode string) error {
	if mode == "" {
		return nil
	}
	if _, err := ovpn.ParseTLSMode(mode); err != nil {
		return usagef("--tls-mode: %v", err)
	}
	return nil
}

// printTLSModeSet says what a mode switch reaches: profiles are rendered
// from the database whenever they are handed out, so every one rendered
// from now on is grouped by the new modes; those already handed out keep
// the old key block and need a new download.
func printTLSModeSet(app *app, s authority.ServerView) {
	fmt.Fprintf(app.stdio.Out, "server %s: control channel now %s; agents install its files at once, "+
		"and every profile rendered from now on (vpnkeys add, renew, links) uses it: users need a new profile for this server\n", s.Name, s.TLSMode)
}

// importTLS holds import easyrsa's --tls-mode and --openvpn-dir.
type importTLS struct {
	mode       string
	openvpnDir []string
}

func (t *importTLS) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.mode, "tls-mode", "", "control channel of the servers registered afterwards (tls-crypt, tls-auth, tls-crypt-v2); default: detected")
	cmd.Flags().StringArrayVar(&t.openvpnDir, "openvpn-dir", nil, "a folder of the old setup's OpenVPN configurations to detect tls-auth from (repeatable)")
}

// check refuses a bad --tls-mode or a missing --openvpn-dir before
// anything is opened.
func (t importTLS) check() error {
	if err := checkTLSMode(t.mode); err != nil {
		return err
	}
	for _, d := range t.openvpnDir {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return usagef("--openvpn-dir %s: not a folder", d)
		}
	}
	return nil
}

// dirs are the folders whose configurations are looked at: --openvpn-dir,
// the folder of --ta-key, and the templates folder (gen.sh's distribution
// folder works as one).
func (t importTLS) dirs(taKey, templates string) []string {
	all := slices.Clone(t.openvpnDir)
	if taKey != "" {
		all = append(all, filepath.Dir(taKey))
	}
	if templates != "" {
		all = append(all, templates)
	}
	var out []string
	for _, d := range all {
		if !slices.Contains(out, filepath.Clean(d)) {
			out = append(out, filepath.Clean(d))
		}
	}
	return out
}

// printImportTLS says which control channel the import chose, and why.
func printImportTLS(app *app, sum authority.ImportSummary, dryRun bool) {
	verb := "get"
	if dryRun {
		verb = "would get"
	}
	fmt.Fprintf(app.stdio.Out, "control channel: servers registered from now on %s %s (%s)\n", verb, sum.TLSMode, sum.TLSModeReason)
	if sum.TAKeyFrom != "" {
		fmt.Fprintf(app.stdio.Out, "static key: %s imported, so the old clients keep working\n", sum.TAKeyFrom)
	}
}
