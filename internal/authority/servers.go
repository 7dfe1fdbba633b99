package authority

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/bundle"
	"github.com/vpnkeys/vpnkeys/internal/ovpn"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/safefile"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// DefaultSubnet is the VPN address pool of a server added without one.
// Every user holds a fixed address on every server, so the pool bounds
// the company, not the concurrent sessions: a /20 has room for 4,093.
const DefaultSubnet = "10.8.0.0/20"

// ServerRequest registers an OpenVPN server.
type ServerRequest struct {
	Name   string
	Remote string // HOST:PORT[/udp|/tcp]
	Subnet string // CIDR of the client address pool; DefaultSubnet if empty
	Push   ovpn.Push
	// Days is the lifetime of the server's certificate (`--days N`), kept
	// for its renewals; 0 follows Options.LeafDays.
	Days int
	// TLSMode protects the control channel (ovpn.TLSModes); "" is tls-crypt.
	TLSMode string
}

// AddServer registers a server. Profiles rendered afterwards list it, and
// the bundle folders on disk are re-rendered to (refresh.go).
func (a *Authority) AddServer(ctx context.Context, r ServerRequest) (ServerView, error) {
	if err := account.ValidName(r.Name); err != nil {
		return ServerView{}, fmt.Errorf("server %w", err)
	}
	rem, err := ovpn.ParseRemote(r.Remote)
	if err != nil {
		return ServerView{}, fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	if r.Subnet == "" {
		r.Subnet = DefaultSubnet
	}
	if _, _, err := ovpn.ParseSubnet(r.Subnet); err != nil {
		return ServerView{}, fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	if err := r.Push.Validate(); err != nil {
		return ServerView{}, fmt.Errorf("%w: %w", account.ErrInvalid, err)
	}
	mode, err := a.serverTLSMode(ctx, r.TLSMode)
	if err != nil {
		return ServerView{}, err
	}
	if _, err := a.db.Q().GetCA(ctx); errors.Is(err, store.ErrNotFound) {
		return ServerView{}, ErrNotInitialized
	}
	if r.Days != 0 {
		if _, err := a.leafDays(ctx, r.Days); err != nil {
			return ServerView{}, err
		}
	}
	s := store.Server{Name: r.Name, Host: rem.Host, Port: rem.Port, Proto: rem.Proto, Subnet: r.Subnet, CreatedAt: a.now(), CertDays: r.Days, TLSMode: string(mode)}
	setPush(&s, r.Push)
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.InsertServer(ctx, s); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%w: %s", ErrServerExists, r.Name)
			}
			return err
		}
		users, err := q.ActiveUserNames(ctx)
		if err != nil {
			return err
		}
		if _, err := allocate(ctx, q, s, users); err != nil {
			return err
		}
		if err := a.audit(ctx, q, "server.add", r.Name, map[string]any{"remote": rem.String(), "subnet": r.Subnet, "tls_mode": mode}); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeServer, r.Name, map[string]any{"op": "add"})
	})
	if err == nil {
		a.refreshAfter(ctx, "server.add") // bundle folders list it too (refresh.go)
	}
	return serverView(s), err
}

// Servers lists the registered servers in profile order.
func (a *Authority) Servers(ctx context.Context) ([]ServerView, error) {
	list, err := a.db.Q().ListServers(ctx)
	return serverViews(list), err
}

// ServerFileNames are the files of a server folder, as OpenVPN's
// server.conf refers to them; vpnkeys-session.sh is its client-connect
// and client-disconnect script (ovpn.SessionHookName).
var ServerFileNames = []string{"server.conf", "ca.crt", "server.crt", "server.key", "ta.key", "crl.pem", ovpn.SessionHookName}

// hookMode is the session hook's mode: OpenVPN runs it as nobody.
const hookMode = 0o755

// ServerFiles renders everything server name needs, in memory, in
// ServerFileNames order, each with the mode it must have on disk (keys
// 0600, the hook 0755), then one client-config file per active user,
// "ccd/USER" (server.conf's ccd-exclusive refuses a user without one).
// The server's certificate is issued on first use and kept (its key
// sealed) for later calls.
func (a *Authority) ServerFiles(ctx context.Context, name string) ([]bundle.File, error) {
	u, err := a.ca()
	if err != nil {
		return nil, err
	}
	crl, err := a.CRL(ctx)
	if err != nil {
		return nil, err
	}
	files, _, err := a.serverFiles(ctx, u, name, crl.PEM, nil)
	return files, err
}

// serverFiles is ServerFiles with the CRL given, so AgentState's files
// and its CRL description come from one read; it returns the server's
// nftables ruleset too, rendered with the client-config files
// (Firewall). The agents' states pass what every server's firewall reads
// alike (sh, read once per version); nil reads it here.
func (a *Authority) serverFiles(ctx context.Context, u *unlockedCA, name string, crlPEM []byte, sh *fwShared) ([]bundle.File, string, error) {
	files, err := a.baseFiles(ctx, u, name, crlPEM)
	if err != nil {
		return nil, "", err
	}
	fw, probes, err := a.serverFirewall(ctx, name, sh)
	if err != nil {
		return nil, "", err
	}
	return append(append(files, ccdFiles(fw)...), probes...), fw.Ruleset, nil
}

// baseFiles are the files of ServerFileNames.
func (a *Authority) baseFiles(ctx context.Context, u *unlockedCA, name string, crlPEM []byte) ([]bundle.File, error) {
	srv, err := a.db.Q().GetServer(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrServerNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := a.serverCert(ctx, u, srv)
	if err != nil {
		return nil, err
	}
	network, netmask, err := ovpn.ParseSubnet(srv.Subnet)
	if err != nil {
		return nil, err
	}
	conf, err := ovpn.RenderServerConfig(a.opts.Templates, ovpn.ServerData{
		Name: srv.Name, Remote: ovpn.Remote{Host: srv.Host, Port: srv.Port, Proto: srv.Proto},
		Network: network, Netmask: netmask, RunDir: a.opts.AgentRunDir, TLSMode: ovpn.TLSMode(srv.TLSMode),
	}.WithPush(PushOf(srv)))
	if err != nil {
		return nil, err
	}
	hook, err := ovpn.SessionHook(a.opts.AgentRunDir, srv.Name)
	if err != nil {
		return nil, err
	}
	caPEM, err := a.serverCAPEM(ctx) // the newest CA certificate (rollover.go)
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{
		"server.conf": conf, "ca.crt": caPEM, "server.crt": certPEM,
		"server.key": keyPEM, "ta.key": u.tlsCrypt, "crl.pem": crlPEM, ovpn.SessionHookName: hook,
	}
	files := make([]bundle.File, len(ServerFileNames))
	for i, n := range ServerFileNames {
		mode := safefile.PublicMode
		switch n {
		case "server.key", "ta.key":
			mode = safefile.SecretMode
		case ovpn.SessionHookName:
			mode = hookMode
		}
		files[i] = bundle.File{Name: n, Mode: mode, Data: data[n]}
	}
	extra, err := a.tlsModeFiles(ctx, u, srv, crlPEM)
	return append(files, extra...), err
}

// ServerArchive is ServerFiles as NAME-server.tar.gz (folder NAME/, modes
// kept), for a download.
func (a *Authority) ServerArchive(ctx context.Context, name string) (Download, error) {
	files, err := a.ServerFiles(ctx, name)
	if err != nil {
		return Download{}, err
	}
	var buf bytes.Buffer
	if err := bundle.TarGz(&buf, name, files, a.now()); err != nil {
		return Download{}, err
	}
	return Download{Name: name + "-server.tar.gz", ContentType: "application/gzip", Data: buf.Bytes()}, nil
}

// WriteServerFiles writes ServerFiles into dir, each file atomically, and
// records dir so that later revocations refresh its crl.pem. The folder is
// made 0755 when vpnkeys creates it: OpenVPN re-reads crl.pem as user
// nobody after dropping privileges; the keys inside are 0600.
func (a *Authority) WriteServerFiles(ctx context.Context, name, dir string) error {
	_, err := a.WriteServerFilesTo(ctx, name, dir, false)
	return err
}

// WriteServerFilesTo is WriteServerFiles that refuses (ErrFilesChanged,
// nothing written) to replace files vpnkeys did not write there or that
// changed since, unless force; forced, it keeps each such file as
// NAME.bak-TIMESTAMP and returns those names.
func (a *Authority) WriteServerFilesTo(ctx context.Context, name, dir string, force bool) (backups []string, err error) {
	files, err := a.ServerFiles(ctx, name)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", dir, err)
	}
	foreign, err := foreignFiles(abs, files)
	if err != nil {
		return nil, err
	}
	if len(foreign) > 0 && !force {
		return nil, changedError(abs, foreign)
	}
	if err := safefile.MkdirAllMode(abs, serverDirMode); err != nil {
		return nil, err
	}
	if backups, err = backupFiles(abs, foreign, a.now()); err != nil {
		return backups, err
	}
	return backups, a.writeServerFiles(ctx, name, abs, files)
}

func (a *Authority) writeServerFiles(ctx context.Context, name, abs string, files []bundle.File) error {
	if err := safefile.MkdirAllMode(filepath.Join(abs, strings.TrimSuffix(agentwire.CCDPrefix, "/")), serverDirMode); err != nil {
		return err
	}
	old := readManifest(abs)
	for _, f := range files {
		if err := safefile.WriteFile(filepath.Join(abs, f.Name), f.Data, f.Mode); err != nil {
			return err
		}
	}
	if err := writeManifest(abs, name, files, a.now()); err != nil {
		return err
	}
	if err := removeStaleCCD(abs, old, files); err != nil {
		return err
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.RecordServerOutput(ctx, store.ServerOutput{Server: name, Host: a.opts.Hostname, Dir: abs, WrittenAt: a.now()}); err != nil {
			return err
		}
		return a.audit(ctx, q, "server.files", name, map[string]any{"dir": abs, "host": a.opts.Hostname})
	})
}

// CheckServerDir tells whether OpenVPN, running as nobody after dropping
// privileges, can re-read dir/crl.pem; if it cannot, revocations never
// reach that server ("Failed to stat CRL file, not reloading CRL"). It
// returns nil or an error saying what is in the way.
func CheckServerDir(dir string) error {
	if err := safefile.ReadableByOthers(filepath.Join(dir, "crl.pem")); err != nil {
		return fmt.Errorf("OpenVPN running as nobody cannot re-read crl.pem, so revocations would not reach it: %w", err)
	}
	return nil
}

// serverDirMode is the mode of a server folder vpnkeys creates: OpenVPN
// re-reads crl.pem as user nobody, so others must be able to enter it.
const serverDirMode = 0o755

// serverCert returns the server's active certificate and plain key,
// issuing them when there is none or the current one expires within 30 days
// (a third of its lifetime for a short one: renewBefore).
// A race lost to another process issuing it too is retried from the start:
// reading the current certificate again and, if needed, signing afresh.
func (a *Authority) serverCert(ctx context.Context, u *unlockedCA, srv store.Server) (certPEM, keyPEM []byte, err error) {
	err = a.retry(ctx, "server certificate", func() error {
		var err error
		certPEM, keyPEM, err = a.tryServerCert(ctx, u, srv)
		return err
	})
	return certPEM, keyPEM, err
}

// tryServerCert is one attempt of serverCert.
func (a *Authority) tryServerCert(ctx context.Context, u *unlockedCA, srv store.Server) (certPEM, keyPEM []byte, err error) {
	cur, err := a.db.Q().ActiveCert(ctx, store.KindServer, srv.Name)
	if err == nil && !serverCertDue(cur, a.now()) {
		key, err := u.sealer.Open(cur.KeySealed, keyLabel(store.KindServer, srv.Name, cur.Serial))
		if err != nil {
			return nil, nil, err
		}
		return []byte(cur.CertPEM), key, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	return a.replaceServerCert(ctx, u, srv, cur)
}

// issue signs a certificate of days (0: the default) for key and seals the
// key into the record; it touches nothing. keyPEM is the plain key for the
// outputs.
func (a *Authority) issue(u *unlockedCA, role pki.Role, cn string, key crypto.Signer, days int) (c store.Cert, keyPEM []byte, err error) {
	cert, err := u.ca.Issue(pki.Leaf{Role: role, CommonName: cn, PublicKey: key.Public(), Days: days, Now: a.now()})
	if err != nil {
		return store.Cert{}, nil, err
	}
	keyPEM, err = pki.MarshalKey(key)
	if err != nil {
		return store.Cert{}, nil, err
	}
	kind := store.KindClient
	if role == pki.Server {
		kind = store.KindServer
	}
	serial := pki.SerialHex(cert.SerialNumber)
	sealed, err := u.sealer.Seal(keyPEM, keyLabel(kind, cn, serial))
	if err != nil {
		return store.Cert{}, nil, err
	}
	return store.Cert{
		Serial: serial, Kind: kind, Subject: cn, CertPEM: string(pki.CertPEM(cert)), KeySealed: sealed,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, State: store.StateActive, CreatedAt: a.now(),
	}, keyPEM, nil
}

// keyLabel binds a sealed key to its certificate record.
func keyLabel(kind, subject, serial string) string {
	return "key:" + kind + ":" + subject + ":" + serial
}
