package web

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qr "github.com/piglig/go-qr"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// TestBrowserLinkQR opens an iOS user's link page in Chromium, under the
// server's real CSP: the QR code renders at a usable size, the pixels
// Chromium paints decode to the link, and on a phone-sized screen (where
// the employee already is) the code is hidden.
func TestBrowserLinkQR(t *testing.T) {
	bin := testenv.LookPath(t, "/usr/bin/chromium", "chromium", "chromium-browser")
	e := newEnv(t, nil)
	if _, err := e.a.AddUsers(context.Background(), []authority.UserRequest{{Name: "ines", OS: "ios", Lang: "es"}}, authority.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := e.a.CreateLink(context.Background(), "ines", 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 900)) // chromedp makes and removes its own profile folder, after Chromium exits
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var size []float64
	var shot, page []byte
	var phoneDisplay string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(l.URL),
		chromedp.WaitVisible(`svg.qr`),
		chromedp.Evaluate(`(r => [r.width, r.height])(document.querySelector("svg.qr").getBoundingClientRect())`, &size),
		chromedp.Screenshot(`svg.qr`, &shot, chromedp.NodeVisible),
		chromedp.FullScreenshot(&page, 100),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Evaluate(`getComputedStyle(document.querySelector("div.qr")).display`, &phoneDisplay),
	); err != nil {
		t.Fatalf("opening the link page: %v", err)
	}
	os.WriteFile(filepath.Join(testOut(t), "11-link-qr.png"), shot, 0o644)
	os.WriteFile(filepath.Join(testOut(t), "12-link-page-ios.png"), page, 0o644)
	if len(size) != 2 || size[0] < 150 || size[1] != size[0] {
		t.Fatalf("got the QR code at %v px, want a square at least 150 px wide", size)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("reading the screenshot: %v", err)
	}
	got, err := qr.Decode(img)
	if err != nil || got != l.URL {
		t.Fatalf("got %q %v from the rendered QR code, want the link %q", got, err, l.URL)
	}
	if phoneDisplay != "none" {
		t.Errorf("got display %q on a 390 px phone, want none", phoneDisplay)
	}
}
