package authority

import (
	"context"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// selfTLSDays is the lifetime of the certificate of vpnkeys' own HTTPS
// (serve --tls-self); serve issues it anew at two thirds of its life.
const selfTLSDays = 30

// SelfTLS issues a short-lived certificate for vpnkeys' own HTTPS from the
// company CA, for hosts, with a fresh key kept in memory only. Like
// everything the CA signs it is recorded (kind server, subject
// "https:HOST", which no server name can be) and audited, in the
// transaction that supersedes the previous one for the same host.
func (a *Authority) SelfTLS(ctx context.Context, hosts []string) (certPEM, keyPEM []byte, err error) {
	u, err := a.ca()
	if err != nil {
		return nil, nil, err
	}
	key, err := pki.GenerateKey(pki.P256)
	if err != nil {
		return nil, nil, err
	}
	cn := "vpnkeys"
	if len(hosts) > 0 {
		cn = hosts[0]
	}
	c, err := u.ca.Issue(pki.Leaf{Role: pki.Server, CommonName: cn, Hosts: hosts, PublicKey: key.Public(), Days: selfTLSDays, Now: a.now()})
	if err != nil {
		return nil, nil, err
	}
	rec := store.Cert{Serial: pki.SerialHex(c.SerialNumber), Kind: store.KindServer, Subject: "https:" + cn,
		CertPEM: string(pki.CertPEM(c)), NotBefore: c.NotBefore, NotAfter: c.NotAfter, State: store.StateActive, CreatedAt: a.now()}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if old, err := q.ActiveCert(ctx, store.KindServer, rec.Subject); err == nil {
			if err := q.EndCert(ctx, old.Serial, store.StateSuperseded, a.now().Unix(), ""); err != nil {
				return err
			}
		}
		if err := q.InsertCert(ctx, rec); err != nil {
			return err
		}
		return a.audit(ctx, q, "tls.issue", rec.Subject, map[string]any{"serial": rec.Serial, "hosts": strings.Join(hosts, " ")})
	})
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = pki.MarshalKey(key)
	if err != nil {
		return nil, nil, err
	}
	return append([]byte(rec.CertPEM), u.certPEM...), keyPEM, nil
}
