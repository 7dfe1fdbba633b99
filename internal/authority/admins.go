package authority

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Admin sign-in errors.
var (
	ErrBadLogin     = errors.New("wrong admin name or password")
	ErrNoSession    = errors.New("not signed in, or the session has ended")
	ErrWeakPassword = errors.New("password too short: use at least 12 characters")
)

// Session lifetimes: an idle session ends after SessionIdle, any session
// after SessionMax.
const (
	SessionIdle = 2 * time.Hour
	SessionMax  = 12 * time.Hour
)

// argon2id parameters: RFC 9106's second recommendation scaled to OWASP's
// minimum memory (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	h := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(h)), nil
}

func checkPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked for unknown names so that a wrong name costs as much
// time as a wrong password.
var dummyHash, _ = hashPassword("vpnkeys dummy password")

// SetAdmin creates an admin or sets their password; their sessions end.
func (a *Authority) SetAdmin(ctx context.Context, name, password string) error {
	if err := account.ValidName(name); err != nil {
		return fmt.Errorf("admin %w", err)
	}
	if !StrongEnough(password) {
		return fmt.Errorf("%w: %w", account.ErrInvalid, ErrWeakPassword)
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	return a.db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.UpsertAdmin(ctx, store.Admin{Name: name, PasswordHash: h, CreatedAt: a.now().Unix()}); err != nil {
			return err
		}
		if _, err := q.DeleteSessionsOf(ctx, name); err != nil {
			return err
		}
		return a.audit(ctx, q, "admin.set", name, nil)
	})
}

// RemoveAdmin deletes an admin and ends their sessions.
func (a *Authority) RemoveAdmin(ctx context.Context, name string) error {
	return a.db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.DeleteAdmin(ctx, name); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: no admin %s", ErrUserNotFound, name)
			}
			return err
		}
		return a.audit(ctx, q, "admin.remove", name, nil)
	})
}

// Login checks an admin's password and opens a session; the token goes in
// a cookie and is stored only hashed. Failures are audited.
func (a *Authority) Login(ctx context.Context, name, password, from string) (string, error) {
	adm, err := a.db.Q().GetAdmin(ctx, name)
	ok := false
	if err == nil {
		ok = checkPassword(adm.PasswordHash, password)
	} else if errors.Is(err, store.ErrNotFound) {
		checkPassword(dummyHash, password)
	} else {
		return "", err
	}
	ctx = WithActor(ctx, Actor{Name: "admin:" + name, Source: from})
	if !ok {
		a.db.WithTx(ctx, func(q *store.Queries) error {
			return a.audit(ctx, q, "admin.login_failed", name, nil)
		})
		return "", ErrBadLogin
	}
	tok, err := newSecret("s_")
	if err != nil {
		return "", err
	}
	now := a.now()
	err = a.db.WithTx(ctx, func(q *store.Queries) error {
		if err := q.InsertSession(ctx, store.Session{TokenHash: hashSecret(tok), Admin: name, CreatedAt: now.Unix(),
			ExpiresAt: now.Add(SessionMax).Unix(), LastSeen: now.Unix(), Source: from}); err != nil {
			return err
		}
		return a.audit(ctx, q, "admin.login", name, nil)
	})
	return tok, err
}

// Session returns the admin of a live session and marks it active.
func (a *Authority) Session(ctx context.Context, tok string) (string, error) {
	if !strings.HasPrefix(tok, "s_") || len(tok) > 100 {
		return "", ErrNoSession
	}
	h := hashSecret(tok)
	s, err := a.db.Q().GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrNoSession
	}
	if err != nil {
		return "", err
	}
	now := a.now().Unix()
	if now >= s.ExpiresAt || now-s.LastSeen >= int64(SessionIdle/time.Second) {
		a.db.Q().DeleteSession(ctx, h)
		return "", ErrNoSession
	}
	if now-s.LastSeen > 60 {
		a.db.Q().TouchSession(ctx, h, now)
	}
	return s.Admin, nil
}

// Logout ends a session.
func (a *Authority) Logout(ctx context.Context, tok string) error {
	return a.db.Q().DeleteSession(ctx, hashSecret(tok))
}

// EndSessions ends every session of an admin.
func (a *Authority) EndSessions(ctx context.Context, name string) (int64, error) {
	return a.db.Q().DeleteSessionsOf(ctx, name)
}

// LinkActivity returns when each user was last sent a link and last opened one.
func (a *Authority) LinkActivity(ctx context.Context, users []string) (map[string]store.LinkActivity, error) {
	return a.db.Q().LinkActivityOf(ctx, users)
}
