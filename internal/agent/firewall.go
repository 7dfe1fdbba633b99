package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/firewall"
)

// ErrNoNft is reported when a state carries a firewall ruleset and no nft
// binary is found (--nft, or nft on PATH, /usr/sbin or /sbin).
var ErrNoNft = errors.New("the state has a firewall ruleset but nft is not installed (install nftables, or give --nft)")

// nftCandidates are where nft is looked for when --nft is not given:
// PATH first, then Debian's place (root's PATH has it, a unit's may not).
var nftCandidates = []string{"nft", "/usr/sbin/nft", "/sbin/nft"}

// nftPath finds the nft binary.
func (r *runner) nftPath() (string, error) {
	if r.cfg.Nft != "" {
		return r.cfg.Nft, nil
	}
	for _, c := range nftCandidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNoNft
}

// applyFirewall loads st's ruleset with `nft -f` when it is not the one in
// force: one transaction replacing vpnkeys' table only, so a ruleset the
// kernel refuses leaves the previous one in force; the refusal is counted
// in vpnkeys_agent_apply_errors_total and kept for the reports until a
// ruleset loads. An empty ruleset manages no firewall and removes nothing.
// Call with r.mu held.
func (r *runner) applyFirewall(ctx context.Context, st agentwire.State) {
	if st.Firewall == "" {
		r.fwErr = ""
		return
	}
	sum := sha256.Sum256([]byte(st.Firewall))
	h := hex.EncodeToString(sum[:])
	if h == r.fwHash {
		r.fwErr = ""
		return
	}
	nft, err := r.nftPath()
	if err == nil {
		err = firewall.Apply(ctx, nft, st.Firewall)
	}
	if err != nil {
		r.m.applyErrors.Inc()
		r.fwErr = fmt.Sprintf("version %d: firewall not applied, the previous ruleset stays in force: %v", st.Version, err)
		r.log.Error("firewall ruleset not applied, the previous one stays in force", "version", st.Version, "err", err)
		return
	}
	r.fwHash, r.fwErr = h, ""
	r.log.Info("firewall ruleset applied", "version", st.Version, "sha256", h[:12])
}

// ownTableOnly checks that ruleset touches vpnkeys' own table and nothing
// else: outside braces it may only say `table inet vpnkeys`, `delete
// table inet vpnkeys` and open `table inet vpnkeys { ... }` (comments
// aside), so even a control plane that went wrong cannot flush the host's
// ruleset or another table through the agent.
func ownTableOnly(ruleset string) error {
	own := "table " + firewall.Table
	depth, quoted, comment := 0, false, false
	var stmt []byte
	end := func() error {
		s := string(bytes.Join(bytes.Fields(stmt), []byte(" ")))
		stmt = stmt[:0]
		if s == "" || s == own || s == "delete "+own {
			return nil
		}
		return fmt.Errorf("the firewall ruleset says %.60q outside table %s", s, firewall.Table)
	}
	for i := 0; i < len(ruleset); i++ {
		c := ruleset[i]
		switch {
		case comment:
			comment = c != '\n'
			if c == '\n' && depth == 0 {
				if err := end(); err != nil {
					return err
				}
			}
			continue
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '#':
			comment = true
			continue
		case c == '{':
			if depth == 0 {
				if s := string(bytes.Join(bytes.Fields(stmt), []byte(" "))); s != own {
					return fmt.Errorf("the firewall ruleset opens %.60q, not table %s", s, firewall.Table)
				}
				stmt = stmt[:0]
			}
			depth++
			continue
		case c == '}':
			if depth--; depth < 0 {
				return fmt.Errorf("the firewall ruleset closes a brace it never opened")
			}
			continue
		case depth == 0 && (c == '\n' || c == ';'):
			if err := end(); err != nil {
				return err
			}
			continue
		}
		if depth == 0 {
			stmt = append(stmt, c)
		}
	}
	if depth != 0 || quoted {
		return fmt.Errorf("the firewall ruleset ends inside a block or a string")
	}
	return end()
}
