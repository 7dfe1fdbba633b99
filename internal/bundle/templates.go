package bundle

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

//go:embed templates
var builtin embed.FS

// Template names that a templates folder may override.
const (
	ProfileTemplate = "profile.ovpn.tmpl"
	readmeDir       = "readme"
)

// Token is what the gen.sh distribution files carry in place of the user name.
const Token = "change_me"

// Server is one `remote` of a profile.
type Server struct {
	Name  string
	Host  string
	Port  int
	Proto string
	// Remote is HOST:PORT/PROTO as people read it (IPv6 bracketed), made
	// by ovpn.Remote.String.
	Remote string
	// TLSMode is the server's control-channel mode; servers of one mode
	// share a profile (Render).
	TLSMode ovpn.TLSMode
}

// Data is what every template sees.
type Data struct {
	User     string
	FullName string
	Email    string
	OS       string
	Lang     string
	Company  string
	Contact  string
	Expires  string // YYYY-MM-DD
	Profile  string // USER.ovpn
	Servers  []Server
	CA       string // PEM
	Cert     string // PEM
	Key      string // PEM, plain
	TLSCrypt string // OpenVPN static key file
	// TLSMode is the mode of this profile's servers (set by Render), and
	// TLSCryptV2 the user's tls-crypt-v2 client key (PEM) when a server
	// uses tls-crypt-v2.
	TLSMode    ovpn.TLSMode
	TLSCryptV2 string
}

// Templates is a loaded set of bundle templates.
type Templates struct {
	profile *template.Template
	readmes map[string]*template.Template // by language
	extras  []extra
}

type extra struct {
	name string
	tmpl *template.Template // nil: a gen.sh file, copied with Token replaced
	data []byte
	text bool
}

// LoadTemplates loads the built-in templates, overridden and extended by
// dir when dir is not empty.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{readmes: map[string]*template.Template{}}
	var err error
	if t.profile, err = parse(builtin, "templates/"+ProfileTemplate); err != nil {
		return nil, err
	}
	langs, err := fs.Glob(builtin, "templates/readme/*.txt.tmpl")
	if err != nil {
		return nil, err
	}
	for _, p := range langs {
		if t.readmes[langOf(p)], err = parse(builtin, p); err != nil {
			return nil, err
		}
	}
	if dir == "" {
		return t, nil
	}
	if err := t.loadDir(dir); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Templates) loadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading templates folder: %w", err)
	}
	dfs := os.DirFS(dir)
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case e.IsDir():
			if name != readmeDir {
				continue
			}
			langs, err := fs.Glob(dfs, readmeDir+"/*.txt.tmpl")
			if err != nil {
				return err
			}
			for _, p := range langs {
				if t.readmes[langOf(p)], err = parse(dfs, p); err != nil {
					return err
				}
			}
		case !e.Type().IsRegular():
			continue
		case name == ovpn.ServerTemplateName:
			// server.conf.tmpl is the servers' template, rendered with a
			// server's data by ovpn.RenderServerConfig; as a bundle file
			// it would break every bundle (no .Name in bundle.Data).
			continue
		case name == ProfileTemplate:
			if t.profile, err = parse(dfs, name); err != nil {
				return err
			}
		case strings.HasSuffix(name, ".tmpl"):
			tm, err := parse(dfs, name)
			if err != nil {
				return err
			}
			t.extras = append(t.extras, extra{name: strings.TrimSuffix(name, ".tmpl"), tmpl: tm})
		default:
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return fmt.Errorf("reading template: %w", err)
			}
			t.extras = append(t.extras, extra{name: name, data: b, text: isText(b)})
		}
	}
	return nil
}

func parse(fsys fs.FS, path string) (*template.Template, error) {
	t, err := template.New(filepath.Base(path)).Option("missingkey=error").ParseFS(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("parsing template %s: %w", path, err)
	}
	return t, nil
}

func langOf(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".txt.tmpl")
}

func isText(b []byte) bool {
	head := b[:min(len(b), 8000)]
	return !bytes.ContainsRune(head, 0) && utf8.Valid(b)
}

// ErrNoReadme is returned when no readme exists for the language nor in English.
var ErrNoReadme = errors.New("no readme template")
