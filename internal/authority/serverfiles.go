package authority

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
)

// ErrFilesChanged refuses to overwrite files in a server folder that
// vpnkeys did not write, or that changed since it wrote them.
var ErrFilesChanged = fault.New(fault.Conflict, "files_changed", "files not written by vpnkeys, or changed since")

// ManifestName is the file in a server folder that records what vpnkeys
// wrote there: one SHA-256 per file. It lives beside the files rather than
// in the database because the folder is what an admin edits, copies and
// restores (a backup of /etc/openvpn brings its manifest along), it works
// the same on every host and both databases, and it needs no migration.
// Someone who can rewrite the manifest can rewrite the files themselves,
// so keeping it there protects nothing less.
const ManifestName = ".vpnkeys-files"

// manifest is the JSON in ManifestName.
type manifest struct {
	Server    string            `json:"server"`
	WrittenAt time.Time         `json:"written_at"`
	SHA256    map[string]string `json:"sha256"`
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readManifest loads dir's manifest; an absent or unreadable one records
// nothing, so every existing file counts as someone else's.
func readManifest(dir string) manifest {
	var m manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// foreignFiles names the files in dir that writing files would replace
// although vpnkeys did not write them (or they changed since). crl.pem is
// always vpnkeys' own: revocations rewrite it.
func foreignFiles(dir string, files []bundle.File) ([]string, error) {
	m := readManifest(dir)
	var out []string
	for _, f := range files {
		n := f.Name
		if n == "crl.pem" || n == ovpn.RevokedSerialsName {
			continue
		}
		p := filepath.Join(dir, n)
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrFilesChanged, p)
		}
		cur, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", p, err)
		}
		if h := sum(cur); h == sum(f.Data) || h == m.SHA256[n] {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// backupFiles renames each of names in dir to NAME.bak-TIMESTAMP (mode
// kept, as rename keeps it) and returns the new names.
func backupFiles(dir string, names []string, now time.Time) ([]string, error) {
	stamp := now.UTC().Format("20060102T150405Z")
	var out []string
	for _, n := range names {
		bak := n + ".bak-" + stamp
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(dir, bak)); err != nil {
			return out, fmt.Errorf("keeping a backup of %s: %w", n, err)
		}
		out = append(out, bak)
	}
	return out, nil
}

// writeManifest records what was written into dir.
func writeManifest(dir, server string, files []bundle.File, now time.Time) error {
	m := manifest{Server: server, WrittenAt: now.UTC(), SHA256: map[string]string{}}
	for _, f := range files {
		m.SHA256[f.Name] = sum(f.Data)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", ManifestName, err)
	}
	return safefile.WriteFile(filepath.Join(dir, ManifestName), append(b, '\n'), safefile.SecretMode)
}

// changedError names the folder and files that stopped a write.
func changedError(dir string, names []string) error {
	return fmt.Errorf("%w: %s in %s; --force replaces them and keeps each as NAME.bak-TIME",
		ErrFilesChanged, strings.Join(names, ", "), dir)
}

// removeStaleCCD removes the client-config files vpnkeys wrote into dir
// before (old, its previous manifest) that files no longer holds: a user
// removed or revoked since, whom ccd-exclusive then refuses. A file
// vpnkeys did not write, or that changed since, is left alone.
func removeStaleCCD(dir string, old manifest, files []bundle.File) error {
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Name] = true
	}
	for n, h := range old.SHA256 {
		if keep[n] || !strings.HasPrefix(n, agentwire.CCDPrefix) || strings.Contains(n[len(agentwire.CCDPrefix):], "/") {
			continue
		}
		p := filepath.Join(dir, n)
		if cur, err := os.ReadFile(p); err != nil || sum(cur) != h {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
	}
	return nil
}

// publishCCD rewrites the client-config files of every server folder
// recorded for this host (`vpnkeys server files`), so a user added since
// is not refused by ccd-exclusive and a revoked or removed one loses their
// file, as an agent's folder would. Files vpnkeys did not write are left
// alone; the manifest follows. Errors are logged: the change itself is
// committed, and the next `server files` or publish repairs the folder.
func (a *Authority) publishCCD(ctx context.Context) {
	outs, err := a.db.Q().ServerOutputs(ctx, a.opts.Hostname)
	if err != nil {
		a.log.Error("listing server folders for client-config files", "err", err)
		return
	}
	for _, o := range outs {
		if _, err := os.Stat(filepath.Join(o.Dir, ManifestName)); err != nil {
			continue // gone, or never finished: nothing of ours to refresh
		}
		fw, err := a.Firewall(ctx, o.Server)
		if err == nil {
			err = refreshCCD(o.Dir, ccdFiles(fw))
		}
		if err != nil {
			a.log.Error("refreshing client-config files", "server", o.Server, "dir", o.Dir, "err", err)
		}
	}
}

// refreshCCD writes files (ccd/USER) into dir where they differ, removes
// the ones vpnkeys wrote before that files no longer holds, and records
// the result in dir's manifest.
func refreshCCD(dir string, files []bundle.File) error {
	m := readManifest(dir)
	if m.SHA256 == nil {
		m.SHA256 = map[string]string{}
	}
	if err := safefile.MkdirAllMode(filepath.Join(dir, strings.TrimSuffix(agentwire.CCDPrefix, "/")), serverDirMode); err != nil {
		return err
	}
	changed := false
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		h := sum(f.Data)
		if cur, err := os.ReadFile(p); err == nil && sum(cur) == h {
			continue
		} else if err == nil && m.SHA256[f.Name] != sum(cur) {
			continue // someone else's file: `server files --force` decides
		}
		if err := safefile.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
		m.SHA256[f.Name], changed = h, true
	}
	if err := removeStaleCCD(dir, m, files); err != nil {
		return err
	}
	for n := range m.SHA256 {
		if strings.HasPrefix(n, agentwire.CCDPrefix) && !slices.ContainsFunc(files, func(f bundle.File) bool { return f.Name == n }) {
			delete(m.SHA256, n)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", ManifestName, err)
	}
	return safefile.WriteFile(filepath.Join(dir, ManifestName), append(b, '\n'), safefile.SecretMode)
}
