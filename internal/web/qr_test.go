package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qr "github.com/piglig/go-qr"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

var (
	svgRE = regexp.MustCompile(`(?s)<svg class="qr".*?</svg>`)
	runRE = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// readQR finds the link page's QR code and reads its modules back into a
// bit matrix, quiet zone included, from the SVG alone.
func readQR(t *testing.T, page string) [][]bool {
	t.Helper()
	src := svgRE.FindString(page)
	if src == "" {
		t.Fatalf("got a page without an svg.qr, want one:\n%.3000s", page)
	}
	var svg struct {
		ViewBox string `xml:"viewBox,attr"`
		Width   string `xml:"width,attr"`
		Rect    struct {
			Width string `xml:"width,attr"`
			Fill  string `xml:"fill,attr"`
		} `xml:"rect"`
		Path struct {
			D    string `xml:"d,attr"`
			Fill string `xml:"fill,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(src), &svg); err != nil {
		t.Fatalf("parsing the QR code's SVG: %v\n%s", err, src)
	}
	var side int
	if _, err := fmt.Sscanf(svg.ViewBox, "0 0 %d %d", &side, &side); err != nil || side < 21+2*qrQuiet {
		t.Fatalf("got viewBox %q, want 0 0 N N with N at least %d", svg.ViewBox, 21+2*qrQuiet)
	}
	if svg.Rect.Width != strconv.Itoa(side) || svg.Rect.Fill != "#fff" || svg.Path.Fill != "#000" {
		t.Fatalf("got background %q %q and modules %q, want a white %d square under black modules", svg.Rect.Width, svg.Rect.Fill, svg.Path.Fill, side)
	}
	m := make([][]bool, side)
	for y := range m {
		m[y] = make([]bool, side)
	}
	if rest := runRE.ReplaceAllString(svg.Path.D, ""); rest != "" {
		t.Fatalf("got path data %q besides module runs, want runs only", rest)
	}
	for _, r := range runRE.FindAllStringSubmatch(svg.Path.D, -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		n, _ := strconv.Atoi(r[3])
		if r[3] != r[4] || y >= side || x+n > side {
			t.Fatalf("got run %q, want a closed rectangle inside the code", r[0])
		}
		for i := x; i < x+n; i++ {
			m[y][i] = true
		}
	}
	return m
}

// decodeQR paints the matrix as a picture, four pixels a module, and reads
// it with the QR library's own decoder.
func decodeQR(t *testing.T, m [][]bool) string {
	t.Helper()
	const px = 4
	img := image.NewGray(image.Rect(0, 0, len(m)*px, len(m)*px))
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			c := color.Gray{Y: 255}
			if m[y/px][x/px] {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	text, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	return text
}

// checkFinders checks the quiet zone is light and the three finder
// patterns sit where QR puts them: top left, top right, bottom left.
func checkFinders(t *testing.T, m [][]bool) {
	t.Helper()
	n := len(m) - 2*qrQuiet
	for y := range m {
		for x := range m[y] {
			inCode := x >= qrQuiet && y >= qrQuiet && x < qrQuiet+n && y < qrQuiet+n
			if !inCode && m[y][x] {
				t.Fatalf("got a dark module at (%d,%d) in the quiet zone, want it light", x, y)
			}
		}
	}
	for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		for dy := range 7 {
			for dx := range 7 {
				ring := max(abs(dx-3), abs(dy-3)) // 3: outer ring, 2: light ring, 0-1: centre
				want := ring != 2
				if got := m[qrQuiet+c[1]+dy][qrQuiet+c[0]+dx]; got != want {
					t.Fatalf("finder at (%d,%d): module (%d,%d) got dark=%v, want %v", c[0], c[1], dx, dy, got, want)
				}
			}
		}
	}
}

func abs(v int) int { return max(v, -v) }

// checkQRIs reads the page's QR code back from its SVG and checks that it
// decodes to link, that its finders sit where QR puts them, and that its
// modules are the library's own encoding of link.
func checkQRIs(t *testing.T, page, link string) {
	t.Helper()
	m := readQR(t, page)
	checkFinders(t, m)
	if got := decodeQR(t, m); got != link {
		t.Fatalf("got QR code %q, want the link %q", got, link)
	}
	want, err := qrModules(link)
	if err != nil {
		t.Fatal(err)
	}
	for y := range want {
		for x := range want[y] {
			if m[y+qrQuiet][x+qrQuiet] != want[y][x] {
				t.Fatalf("module (%d,%d): got %v, want the library's %v", x, y, m[y+qrQuiet][x+qrQuiet], want[y][x])
			}
		}
	}
}

// TestLinkPageQR: the link page of an Android or iOS user, in each
// language, carries their OpenVPN Connect instructions and, under a
// sentence in their language, an inline SVG QR code that decodes to the
// link itself; the page stays uncached under the same CSP. A used or
// refused link's page has no QR code, and no token reaches the log.
func TestLinkPageQR(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	connect := map[account.OS]map[account.Lang]string{
		account.Android: {"en": "from Google Play", "es": "desde Google Play", "fr": "depuis Google Play", "de": "aus Google Play", "ru": "из Google Play"},
		account.IOS:     {"en": "from the App Store", "es": "desde el App Store", "fr": "depuis l&#39;App Store", "de": "aus dem App Store", "ru": "из App Store"},
	}
	var tokens []string
	for i, lang := range account.Langs {
		os := []account.OS{account.Android, account.IOS}[i%2]
		name := "phone-" + string(lang)
		if _, err := e.a.AddUsers(ctx, []authority.UserRequest{{Name: name, OS: string(os), Lang: string(lang)}}, authority.AddOptions{}); err != nil {
			t.Fatal(err)
		}
		l, err := e.a.CreateLink(ctx, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, l.Token)
		t.Run("ok/"+string(lang)+"/"+string(os), func(t *testing.T) {
			resp, body := e.do(t, "GET", "/l/"+l.Token, "", "")
			page := string(body)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';") {
				t.Fatalf("got %d %v, want 200, no-store and the strict CSP", resp.StatusCode, resp.Header)
			}
			scan := linkText[string(lang)]["qr"]
			if !strings.Contains(page, scan) || strings.Index(page, scan) > strings.Index(page, "<svg") {
				t.Errorf("got no %q above the QR code, want it", scan)
			}
			wantConnect := connect[os][lang]
			if !strings.Contains(page, wantConnect) {
				t.Errorf("got a page without %q, want the %s instructions", wantConnect, os)
			}
			if strings.Contains(page, `value="zip"`) || strings.Contains(page, "<script") || strings.Contains(page, "<img") {
				t.Error("got a zip button, a script or an image, want the profile button and inline SVG only")
			}
			checkQRIs(t, page, l.URL)
		})
	}

	t.Run("fail/used-link-has-no-qr", func(t *testing.T) {
		resp, err := http.PostForm(e.srv.URL+"/l/"+tokens[0], url.Values{"format": {"ovpn"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("download: got %d, want 200", resp.StatusCode)
		}
		resp, body := e.do(t, "GET", "/l/"+tokens[0], "", "")
		if resp.StatusCode != http.StatusGone || strings.Contains(string(body), "<svg") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("got %d with svg=%v, want 410 without a QR code:\n%s", resp.StatusCode, strings.Contains(string(body), "<svg"), body)
		}
	})
	t.Run("fail/revoked-user-link-has-no-qr", func(t *testing.T) {
		if _, err := e.a.Revoke(ctx, "phone-es", ""); err != nil {
			t.Fatal(err)
		}
		resp, body := e.do(t, "GET", "/l/"+tokens[1], "", "")
		if resp.StatusCode != http.StatusGone || strings.Contains(string(body), "<svg") {
			t.Fatalf("got %d with svg=%v, want 410 without a QR code", resp.StatusCode, strings.Contains(string(body), "<svg"))
		}
	})
	for _, tok := range tokens {
		if strings.Contains(e.logs.String(), tok) {
			t.Fatal("got a link token in the log, want none")
		}
	}
}

// TestMobileOSFrontEnds: the API takes a phone by any of its names and
// stores the canonical OS, and the web form offers both phone OSes.
func TestMobileOSFrontEnds(t *testing.T) {
	e := uiEnv(t)
	for _, tc := range []struct{ name, os, want string }{
		{"ok/iphone", "iPhone", `"os": "ios"`},
		{"ok/ipad", "ipad", `"os": "ios"`},
		{"ok/android", "Android", `"os": "android"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := strings.ToLower(strings.TrimPrefix(tc.name, "ok/"))
			resp, body := e.do(t, "POST", "/api/v1/users", e.token, `{"name":"`+user+`","os":"`+tc.os+`"}`)
			if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), tc.want) {
				t.Fatalf("got %d %s, want 201 with %s", resp.StatusCode, body, tc.want)
			}
		})
	}
	// A session straight from the service: the sign-in form's own deadline
	// is not what this test is about.
	tok, err := e.a.Login(context.Background(), "ann", adminPass, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/ui/users/new", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new-user form: got %d, want 200", resp.StatusCode)
	}
	for _, o := range []string{`<option value="android">`, `<option value="ios">`} {
		if !strings.Contains(page, o) {
			t.Errorf("got a new-user form without %s, want it", o)
		}
	}
}
