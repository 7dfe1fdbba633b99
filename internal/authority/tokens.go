package authority

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// ErrUnauthorized is returned for a missing, unknown or revoked API token.
var ErrUnauthorized = fault.New(fault.Unauthorized, "unauthorized", "missing, unknown or revoked API token")

// ErrTokenExists is returned when a token name is taken.
var ErrTokenExists = fault.New(fault.Conflict, "exists", "a token with this name already exists")

const tokenPrefix = "vpk_"

// newSecret draws 256 random bits, URL-safe.
func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("drawing token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is what the database keeps of a token or link: SHA-256 is
// enough for 256 random bits (no password to stretch).
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// CreateToken makes an API token named name and returns it; it is shown
// this once and stored only hashed.
func (a *Authority) CreateToken(ctx context.Context, name string) (string, error) {
	if err := account.ValidName(name); err != nil {
		return "", fmt.Errorf("token %w", err)
	}
	tok, err := newSecret(tokenPrefix)
	if err != nil {
		return "", err
	}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.InsertToken(ctx, store.APIToken{Name: name, Hash: hashSecret(tok), CreatedAt: a.now().Unix()}); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%w: %s", ErrTokenExists, name)
			}
			return err
		}
		return a.audit(ctx, q, "token.create", name, nil)
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// RevokeToken revokes an API token at once.
func (a *Authority) RevokeToken(ctx context.Context, name string) error {
	return a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.RevokeToken(ctx, name, a.now().Unix()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: no live token %q", ErrUnauthorized, name)
			}
			return err
		}
		return a.audit(ctx, q, "token.revoke", name, nil)
	})
}

// Tokens lists API tokens.
func (a *Authority) Tokens(ctx context.Context) ([]store.APIToken, error) {
	return a.db.Q().ListTokens(ctx)
}

// Authenticate returns the name of the live token tok.
func (a *Authority) Authenticate(ctx context.Context, tok string) (string, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 100 {
		return "", ErrUnauthorized
	}
	h := hashSecret(tok)
	t, err := a.db.Q().TokenByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", err
	}
	if t.RevokedAt != 0 || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 {
		return "", ErrUnauthorized
	}
	a.db.Q().TouchToken(ctx, t.Name, a.now().Unix())
	return t.Name, nil
}
