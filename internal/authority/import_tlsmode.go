package authority

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/vpnkeys/vpnkeys/internal/easyrsa"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// maxTAKeyFile bounds a ta.key read from a configuration folder.
const maxTAKeyFile = 1 << 20

// importStaticKey decides the control channel (importTLSMode) and
// returns the static key to keep: o.TLSCrypt, a ta.key found beside the
// old configurations, or a new one (sum.NewTLSCrypt).
func importStaticKey(o ImportOptions, sum *ImportSummary) ([]byte, error) {
	if err := importTLSMode(&o, sum); err != nil {
		return nil, err
	}
	sum.NewTLSCrypt = o.TLSCrypt == nil
	return importTLSCrypt(o.TLSCrypt)
}

// importTLSMode decides the control channel of the imported setup's
// servers: o.TLSMode when given, else tls-auth when the configurations in
// o.ConfigDirs use it (easyrsa.DetectTLSMode), else tls-crypt. Without
// o.TLSCrypt, a ta.key found beside those configurations becomes the
// static key, so the old clients keep working. It reads only.
func importTLSMode(o *ImportOptions, sum *ImportSummary) error {
	var given ovpn.TLSMode
	if o.TLSMode != "" {
		m, err := ovpn.ParseTLSMode(o.TLSMode)
		if err != nil {
			return err
		}
		given = m
	}
	det, err := easyrsa.DetectTLSMode(o.ConfigDirs)
	if err != nil {
		return fmt.Errorf("%w: %w", pki.ErrInvalid, err)
	}
	sum.TLSMode, sum.TLSModeReason = det.Mode, "detected: "+det.Reason
	if given != "" {
		sum.TLSMode, sum.TLSModeReason = string(given), "chosen with --tls-mode"
	}
	if o.TLSCrypt == nil && det.TAKey != "" {
		b, err := readTAKey(det.TAKey)
		if err != nil {
			return err
		}
		o.TLSCrypt, sum.TAKeyFrom = b, det.TAKey
	}
	return nil
}

func readTAKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading ta.key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTAKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading ta.key: %w", err)
	}
	if len(b) > maxTAKeyFile {
		return nil, fmt.Errorf("%w: %s is over %d bytes", pki.ErrInvalid, path, maxTAKeyFile)
	}
	return b, nil
}

// keepImportTLSMode stores the import's mode as the default of servers
// registered afterwards (SettingTLSMode), unless it is the default anyway.
func (a *Authority) keepImportTLSMode(ctx context.Context, q *store.Queries, sum ImportSummary) error {
	if sum.TLSMode == "" || ovpn.TLSMode(sum.TLSMode) == ovpn.TLSCrypt {
		return nil
	}
	if err := q.SetSetting(ctx, SettingTLSMode, sum.TLSMode, a.now()); err != nil {
		return err
	}
	return a.audit(ctx, q, "settings.set", SettingTLSMode, map[string]any{"value": sum.TLSMode, "by": "ca.import", "why": sum.TLSModeReason})
}

// serverTLSMode is the mode of a server being added: the one asked for,
// else the stored default (SettingTLSMode), else tls-crypt.
func (a *Authority) serverTLSMode(ctx context.Context, asked string) (ovpn.TLSMode, error) {
	if asked != "" {
		return ovpn.ParseTLSMode(asked)
	}
	set, err := a.db.Q().Settings(ctx)
	if err != nil {
		return "", err
	}
	return ovpn.ParseTLSMode(set[SettingTLSMode])
}
