package account

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	good := []string{"alice", "a", "bob.smith", "j_doe-2", "0day", strings.Repeat("a", 64), "a.b.c"}
	bad := []string{"", "/", "../x", "a/b", "..", "a..b", ".a", "-a", "_a", "a b", "a'b", `a"b`, "$(x)", "a;b", "a`b",
		"a\nb", "a\x00b", "алиса", "é", strings.Repeat("a", 65), "Alice", "a*", `a\b`, "a|b", "a&b", "a<b", "a>b", "a@b", "a:b", "a,b"}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ok/%q: got %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidName(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("fail/%q: got %v, want ErrInvalid", n, err)
		}
	}
}

var strict = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"alice", "../etc", "a b", "алиса", "a..b", strings.Repeat("z", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidName(s) == nil && (!strict.MatchString(s) || strings.Contains(s, "..")) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestParse(t *testing.T) {
	osTests := map[string]OS{"": Linux, "Win": Windows, "macOS": MacOS, "darwin": MacOS, "ubuntu": Linux}
	for in, want := range osTests {
		if got, err := ParseOS(in, Linux); err != nil || got != want {
			t.Errorf("ParseOS(%q): got %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := ParseOS("beos", Linux); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseOS(beos): got %v, want ErrInvalid", err)
	}
	langTests := map[string]Lang{"": "en", "FR": "fr", "de-AT": "de", "ru_RU": "ru", "es": "es"}
	for in, want := range langTests {
		if got, err := ParseLang(in, "en"); err != nil || got != want {
			t.Errorf("ParseLang(%q): got %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := ParseLang("xx", "en"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseLang(xx): got %v, want ErrInvalid", err)
	}
}
