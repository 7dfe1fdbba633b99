package bundle

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"text/template"
)

// File is one file of a bundle.
type File struct {
	Name string
	Mode os.FileMode
	Data []byte
}

// ReadmeName is the install instructions' file name in a bundle.
const ReadmeName = "README.txt"

// Render produces the files of one user's bundle. The generated key
// material (profile, certificates, keys) wins over a templates-folder file
// of the same name.
func (t *Templates) Render(d Data) ([]File, error) {
	if d.Profile == "" {
		d.Profile = d.User + ".ovpn"
	}
	files, err := t.profiles(d)
	if err != nil {
		return nil, err
	}
	readme, err := t.Readme(d)
	if err != nil {
		return nil, err
	}
	files = append(files, []File{
		{Name: "ca.crt", Mode: 0o644, Data: []byte(d.CA)},
		{Name: d.User + ".crt", Mode: 0o644, Data: []byte(d.Cert)},
		{Name: d.User + ".key", Mode: 0o600, Data: []byte(d.Key)},
		{Name: "ta.key", Mode: 0o600, Data: []byte(d.TLSCrypt)},
		{Name: ReadmeName, Mode: 0o644, Data: readme},
	}...)
	taken := map[string]bool{}
	for _, f := range files {
		taken[f.Name] = true
	}
	for _, x := range t.extras {
		f, err := x.render(d)
		if err != nil {
			return nil, err
		}
		if taken[f.Name] {
			continue
		}
		taken[f.Name] = true
		files = append(files, f)
	}
	return files, nil
}

// Readme renders the install instructions in d.Lang, falling back to English.
func (t *Templates) Readme(d Data) ([]byte, error) {
	tm, ok := t.readmes[d.Lang]
	if !ok {
		if tm, ok = t.readmes["en"]; !ok {
			return nil, fmt.Errorf("%w for language %q", ErrNoReadme, d.Lang)
		}
	}
	return execute(tm, d)
}

func (x extra) render(d Data) (File, error) {
	name := strings.ReplaceAll(x.name, Token, d.User)
	if x.tmpl == nil && strings.HasSuffix(name, ".ovpn") && !strings.Contains(x.name, Token) {
		// gen.sh: mycompany_vpn.ovpn became mycompany_vpn_USER.ovpn.
		name = strings.TrimSuffix(name, ".ovpn") + "_" + d.User + ".ovpn"
	}
	var data []byte
	switch {
	case x.tmpl != nil:
		var err error
		if data, err = execute(x.tmpl, d); err != nil {
			return File{}, err
		}
	case x.text:
		data = bytes.ReplaceAll(x.data, []byte(Token), []byte(d.User))
	default:
		data = x.data
	}
	mode := os.FileMode(0o644)
	if strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".ovpn") || bytes.Contains(data, []byte("PRIVATE KEY")) ||
		bytes.Contains(data, []byte("OpenVPN Static key")) {
		mode = 0o600
	}
	return File{Name: name, Mode: mode, Data: data}, nil
}

func execute(t *template.Template, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}
