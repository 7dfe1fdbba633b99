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

func TestParseOS(t *testing.T) {
	tests := []struct {
		name, in string
		want     OS
		wantErr  bool
	}{
		{"ok/empty-gives-default", "", Linux, false},
		{"ok/win", "Win", Windows, false},
		{"ok/macos", "macOS", MacOS, false},
		{"ok/darwin", "darwin", MacOS, false},
		{"ok/ubuntu", "ubuntu", Linux, false},
		{"ok/android", "android", Android, false},
		{"ok/android-upper", " Android ", Android, false},
		{"ok/ios", "ios", IOS, false},
		{"ok/iOS", "iOS", IOS, false},
		{"ok/iphone", "iPhone", IOS, false},
		{"ok/ipad", "ipad", IOS, false},
		{"ok/ipados", "iPadOS", IOS, false},
		{"fail/beos", "beos", "", true},
		{"fail/windows-phone", "windows phone", "", true},
		{"fail/ios-with-version", "ios17", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOS(tc.in, Linux)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "android or ios") {
					t.Fatalf("got %q %v, want ErrInvalid naming every OS", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestOSesRoundTrip(t *testing.T) {
	for _, o := range OSes {
		if got, err := ParseOS(string(o), ""); err != nil || got != o {
			t.Errorf("ParseOS(%q): got %q %v, want itself", o, got, err)
		}
	}
	if len(OSes) != 5 || OSes[3] != Android || OSes[4] != IOS {
		t.Errorf("got OSes %v, want linux, macos, windows, android, ios", OSes)
	}
}
