package mail

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"text/template"
)

//go:embed templates/*.tmpl
var textsFS embed.FS

// Kind is a kind of mail.
type Kind string

// The mails vpnkeys sends.
const (
	LinkMail  Kind = "link"  // to the employee: a one-time link
	AdminMail Kind = "admin" // to the admin: the bundle attached, key encrypted
)

// TextData fills a mail's templates.
type TextData struct {
	User, FullName, OS, Company, Contact, Link, LinkExpires string
}

// OSName is the OS as people write it.
func (d TextData) OSName() string {
	switch d.OS {
	case "windows":
		return "Windows"
	case "macos":
		return "macOS"
	case "android":
		return "Android"
	case "ios":
		return "iOS"
	}
	return "Linux"
}

// texts holds each file as its own template set, by file name: every file
// defines "subject" and "body". They are parsed on first use, not at every
// command's start.
var texts = sync.OnceValue(func() map[string]*template.Template {
	names, err := fs.Glob(textsFS, "templates/*.tmpl")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		m[path.Base(n)] = template.Must(template.New(path.Base(n)).Option("missingkey=error").ParseFS(textsFS, n))
	}
	return m
})

// Render gives the subject and body of a mail in lang (English when the
// language has no text).
func Render(kind Kind, lang string, d TextData) (subject, body string, err error) {
	return render(kind, lang, d)
}

// render fills the templates of kind in lang (English when the language
// has no text) with d, whatever its type.
func render(kind Kind, lang string, d any) (subject, body string, err error) {
	t, ok := texts()[fmt.Sprintf("%s.%s.tmpl", kind, lang)]
	if !ok {
		if t, ok = texts()[fmt.Sprintf("%s.en.tmpl", kind)]; !ok {
			return "", "", fmt.Errorf("no mail text %q", kind)
		}
	}
	var s, b bytes.Buffer
	if err := t.ExecuteTemplate(&s, "subject", d); err != nil {
		return "", "", fmt.Errorf("rendering mail subject: %w", err)
	}
	if err := t.ExecuteTemplate(&b, "body", d); err != nil {
		return "", "", fmt.Errorf("rendering mail body: %w", err)
	}
	return strings.TrimSpace(strings.ReplaceAll(s.String(), "\n", " ")), strings.TrimLeft(b.String(), "\n"), nil
}
