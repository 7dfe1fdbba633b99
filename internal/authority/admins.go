package authority

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Admin sign-in errors.
var (
	ErrBadLogin     = fault.New(fault.Unauthorized, "bad_login", "wrong admin name or password")
	ErrNoSession    = fault.New(fault.Unauthorized, "no_session", "not signed in, or the session has ended")
	ErrWeakPassword = fault.New(fault.Invalid, "invalid", "password too short: use at least 12 characters")
	// ErrBusy: every password-check slot stayed taken until the caller's
	// context ended; nothing was checked. Try again shortly.
	ErrBusy = fault.New(fault.Unavailable, "busy", "too many sign-ins at once; try again in a few seconds")
)

// sessionPrefix starts every session token (the cookie's value).
const sessionPrefix = "s_"

// SecretPrefixes are the prefixes of every secret that may travel in a URL
// or a header: link tokens, API tokens, session tokens. Front ends use them
// to keep such secrets out of logs.
func SecretPrefixes() []string { return []string{linkPrefix, tokenPrefix, sessionPrefix} }

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

// MaxPasswordChecks bounds the argon2id computations (hashing or checking
// a password) that run at once in this process. Each takes 19 MiB and tens
// of milliseconds of a core; unbounded, 100 parallel sign-ins took serve to
// 923 MB. Two keep sign-in quick for people and the memory under 40 MiB.
// The bound is process-wide, as the memory is.
const MaxPasswordChecks = 2

var (
	passwordSlots    = make(chan struct{}, MaxPasswordChecks)
	passwordInFlight atomic.Int32
)

// withPasswordSlot runs fn, one argon2id computation, in one of the
// MaxPasswordChecks slots. It waits for a free slot as long as ctx lives,
// then gives up with ErrBusy without running fn.
func (a *Authority) withPasswordSlot(ctx context.Context, fn func()) error {
	select {
	case passwordSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
	defer func() { <-passwordSlots }()
	n := passwordInFlight.Add(1)
	defer passwordInFlight.Add(-1)
	if a.opts.PasswordCheck != nil {
		a.opts.PasswordCheck(int(n))
	}
	fn()
	return nil
}

func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return encodeHash(salt, argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)), nil
}

func encodeHash(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
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
// time as a wrong password. It has the parameters of a real hash, so
// checking it costs the same, but it needs no argon2id to make (a zero key
// that no password yields) and is made on first use: every CLI run pays for
// package initialisation, and 19 MiB there was most of vpnkeys' start.
var dummyHash = sync.OnceValue(func() string {
	return encodeHash(make([]byte, 16), make([]byte, argonKeyLen))
})

// SetAdmin creates an admin or sets their password; their sessions end.
func (a *Authority) SetAdmin(ctx context.Context, name, password string) error {
	if err := account.ValidName(name); err != nil {
		return fmt.Errorf("admin %w", err)
	}
	if !StrongEnough(password) {
		return fmt.Errorf("%w: %w", account.ErrInvalid, ErrWeakPassword)
	}
	var h string
	var err error
	if werr := a.withPasswordSlot(ctx, func() { h, err = hashPassword(password) }); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("hashing password: %w", err)
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
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
	return a.withRetry(ctx, func(q *store.Queries) error {
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
// a cookie and is stored only hashed. Failures are audited. The check waits
// for a free slot (MaxPasswordChecks) while ctx lives, else ErrBusy.
func (a *Authority) Login(ctx context.Context, name, password, from string) (string, error) {
	adm, err := a.db.Q().GetAdmin(ctx, name)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	ok := false
	if err := a.withPasswordSlot(ctx, func() {
		if found {
			ok = checkPassword(adm.PasswordHash, password)
		} else {
			checkPassword(dummyHash(), password)
		}
	}); err != nil {
		return "", err
	}
	ctx = WithActor(ctx, Actor{Name: "admin:" + name, Source: from})
	if !ok {
		// A guesser who hangs up after the check is still audited.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.withRetry(actx, func(q *store.Queries) error {
			return a.audit(actx, q, "admin.login_failed", name, nil)
		}); err != nil {
			a.log.ErrorContext(ctx, "auditing a failed sign-in", "admin", name, "err", err)
		}
		return "", ErrBadLogin
	}
	tok, err := newSecret(sessionPrefix)
	if err != nil {
		return "", err
	}
	now := a.now()
	err = a.withRetry(ctx, func(q *store.Queries) error {
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
	if !strings.HasPrefix(tok, sessionPrefix) || len(tok) > 100 {
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

// Logout ends the session tok, signed out from the address from, and
// audits it ("admin.logout"). An unknown or ended session is no error.
func (a *Authority) Logout(ctx context.Context, tok, from string) error {
	h := hashSecret(tok)
	return a.withRetry(ctx, func(q *store.Queries) error {
		s, err := q.GetSession(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := q.DeleteSession(ctx, h); err != nil {
			return fmt.Errorf("ending session: %w", err)
		}
		actx := WithActor(ctx, Actor{Name: "admin:" + s.Admin, Source: from})
		return a.audit(actx, q, "admin.logout", s.Admin, map[string]any{"sessions": 1})
	})
}

// EndSessions ends every session of an admin and audits it
// ("admin.logout", with how many ended).
func (a *Authority) EndSessions(ctx context.Context, name string) (int64, error) {
	if err := account.ValidName(name); err != nil {
		return 0, fmt.Errorf("admin %w", err)
	}
	var n int64
	err := a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := q.GetAdmin(ctx, name); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no admin %s", ErrUserNotFound, name)
		} else if err != nil {
			return err
		}
		var err error
		if n, err = q.DeleteSessionsOf(ctx, name); err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		return a.audit(ctx, q, "admin.logout", name, map[string]any{"sessions": n})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// LinkActivity returns when each user was last sent a link and last opened one.
func (a *Authority) LinkActivity(ctx context.Context, users []string) (map[string]store.LinkActivity, error) {
	return a.db.Q().LinkActivityOf(ctx, users)
}
