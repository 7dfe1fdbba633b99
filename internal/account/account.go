// Package account holds the vocabulary every front end and the service share
// about an employee's VPN account: the one rule for user names, the one rule
// for free text (full names and emails: valid UTF-8, no control or bidi
// characters), the client operating systems and the languages vpnkeys
// writes instructions in.
//
// Everything that comes from outside (argv, a CSV roster, JSON, a web form)
// passes through these checks before it touches a path, a template or a row.
package account

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// MaxNameLen is the longest user name accepted.
const MaxNameLen = 64

// ErrInvalid is wrapped by every validation error of this package, so the
// edges can map it to exit code 2 or HTTP 400 without string matching.
var ErrInvalid = fault.New(fault.Invalid, "invalid", "invalid input")

var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })

// ValidName reports whether name is an acceptable user name: a lowercase
// ASCII login of 1 to 64 characters from a-z, 0-9, '.', '_' and '-', that
// starts with a letter or digit and contains no "..". The same rule applies
// to server names. The name ends up in file names, certificate subjects and
// templates, so nothing else is let through.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalid)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: name is %d bytes long, at most %d allowed", ErrInvalid, len(name), MaxNameLen)
	case !nameRE().MatchString(name) || strings.Contains(name, ".."):
		return fmt.Errorf("%w: name %q: use lowercase a-z, 0-9, '.', '_' or '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// OS is the operating system an employee connects from; it picks the install
// instructions in their bundle.
type OS string

// The supported client operating systems. Android and iOS (iPhone, iPad)
// connect with OpenVPN Connect, which imports the inline profile.
const (
	Windows OS = "windows"
	MacOS   OS = "macos"
	Linux   OS = "linux"
	Android OS = "android"
	IOS     OS = "ios"
)

// OSes lists the supported operating systems in display order.
var OSes = []OS{Linux, MacOS, Windows, Android, IOS}

// ParseOS accepts an OS name (case-insensitive, with a few common aliases);
// the empty string gives def.
func ParseOS(s string, def OS) (OS, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "windows", "win":
		return Windows, nil
	case "macos", "mac", "osx", "darwin":
		return MacOS, nil
	case "linux", "debian", "ubuntu":
		return Linux, nil
	case "android":
		return Android, nil
	case "ios", "iphone", "ipad", "ipados":
		return IOS, nil
	}
	return "", fmt.Errorf("%w: os %q: use windows, macos, linux, android or ios", ErrInvalid, s)
}

// Lang is a language the bundle readme and mails are written in.
type Lang string

// Langs lists the supported languages.
var Langs = []Lang{"en", "es", "fr", "de", "ru"}

// ParseLang accepts a two-letter language code (case-insensitive; "fr-CA"
// counts as "fr"); the empty string gives def.
func ParseLang(s string, def Lang) (Lang, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return def, nil
	}
	if i := strings.IndexAny(v, "-_"); i > 0 {
		v = v[:i]
	}
	for _, l := range Langs {
		if string(l) == v {
			return l, nil
		}
	}
	return "", fmt.Errorf("%w: language %q: use en, es, fr, de or ru", ErrInvalid, s)
}
