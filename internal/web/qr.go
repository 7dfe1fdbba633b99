package web

import (
	"fmt"
	"html/template"
	"strings"

	qr "github.com/piglig/go-qr"
)

// qrQuiet is the light margin around a QR code, in modules: the four the
// standard asks for, so a phone's camera finds the code on any background.
const qrQuiet = 4

// qrModules encodes text as a QR code (error correction level M, which
// survives a smudged screen or a glare) and returns its modules, dark as
// true, row by row, without the quiet zone.
func qrModules(text string) ([][]bool, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("encoding QR code: %w", err)
	}
	n := code.Size()
	m := make([][]bool, n)
	for y := range m {
		m[y] = make([]bool, n)
		for x := range m[y] {
			m[y][x] = code.Module(x, y)
		}
	}
	return m, nil
}

// qrSVG draws text as a QR code in an inline SVG: one path of the dark
// modules, each row's runs as rectangles, on a white square with the quiet
// zone. It is markup in the page itself, so it needs no script, no image
// request and no CSP exception (presentation attributes are not styles).
// label is the code's accessible name.
func qrSVG(text, label string) (template.HTML, error) {
	m, err := qrModules(text)
	if err != nil {
		return "", err
	}
	side := len(m) + 2*qrQuiet
	var d strings.Builder
	for y, row := range m {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	svg := fmt.Sprintf(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		side, side, side*5, side*5, template.HTMLEscapeString(label), side, side, d.String())
	return template.HTML(svg), nil // every part is a number or escaped above
}
