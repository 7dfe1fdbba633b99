package authority

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/pki"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// TestErrorKinds: a representative error of each kind carries, from where
// it is made, the kind and code the front ends map, and a message a client
// may read that names no CLI command or flag.
func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.P256)
	bare := newFixture(t, pki.P256) // a CA with no server yet
	f.addServer(t, "dc1", "vpn.example.com:1194")
	f.add(t, AddOptions{}, "alice")
	if _, err := f.a.CreateToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	empty, err := store.Open(ctx, t.TempDir()+"/empty.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { empty.Close() })

	tests := []struct {
		name string
		call func() error
		kind fault.Kind
		code string
		is   error
	}{
		{"fail/unknown user", func() error { _, err := f.a.Renew(ctx, "nobody", AddOptions{}); return err },
			fault.NotFound, "not_found", ErrUserNotFound},
		{"fail/unknown server", func() error { _, err := f.a.ServerFiles(ctx, "dc9"); return err },
			fault.NotFound, "not_found", ErrServerNotFound},
		{"fail/bad name", func() error { _, err := f.a.AddUsers(ctx, []UserRequest{{Name: "../x"}}, AddOptions{}); return err },
			fault.Invalid, "invalid", nil},
		{"fail/bad remote", func() error {
			_, err := f.a.AddServer(ctx, ServerRequest{Name: "dc2", Remote: "h:99999"})
			return err
		}, fault.Invalid, "invalid", nil},
		{"fail/locked CA", func() error { _, err := f.reopen().RefreshCRL(ctx); return err },
			fault.Unavailable, "locked", ErrLocked},
		{"fail/no CA", func() error { _, err := New(empty, f.opts).CRL(ctx); return err },
			fault.Unavailable, "not_initialized", ErrNotInitialized},
		{"fail/server exists", func() error {
			_, err := f.a.AddServer(ctx, ServerRequest{Name: "dc1", Remote: "vpn2.example.com:1194"})
			return err
		}, fault.Conflict, "exists", ErrServerExists},
		{"fail/token exists", func() error { _, err := f.a.CreateToken(ctx, "ci"); return err },
			fault.Conflict, "exists", ErrTokenExists},
		{"fail/no servers", func() error { _, err := bare.a.AddUsers(ctx, []UserRequest{{Name: "bob"}}, AddOptions{}); return err },
			fault.Conflict, "no_servers", ErrNoServers},
		{"fail/no mail", func() error { _, err := f.a.Send(ctx, nil, SendRequest{User: "alice"}); return err },
			fault.Conflict, "mail_not_configured", ErrNoMail},
		{"fail/bad token", func() error { _, err := f.a.Authenticate(ctx, "vpk_nope"); return err },
			fault.Unauthorized, "unauthorized", ErrUnauthorized},
		{"fail/wrong passphrase", func() error { return f.reopen().Unlock(ctx, pki.Passphrase("wrong horse")) },
			fault.Unauthorized, "wrong_passphrase", pki.ErrWrongPassphrase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v): got false, want true", err, tc.is)
			}
			if got := fault.KindOf(err); got != tc.kind {
				t.Errorf("kind of %q: got %v, want %v", err, got, tc.kind)
			}
			if got := fault.CodeOf(err); got != tc.code {
				t.Errorf("code of %q: got %q, want %q", err, got, tc.code)
			}
			msg := fault.Message(err)
			if msg == fault.GenericMessage || strings.Contains(msg, "vpnkeys ") || strings.Contains(msg, "--") {
				t.Errorf("message: got %q, want the error's own words without a CLI command or flag", msg)
			}
		})
	}
}
