package web

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// testOut is where browser tests leave their screenshots: testout/ at the
// repository root.
func testOut(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testout", "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives Debian's Chromium through the admin pages as a person
// would: sign in, add a user, upload a 50-row roster with 3 bad rows and see
// them reported, revoke a user after confirming, download a bundle, see
// who is connected and disconnect them. Each step saves a screenshot.
func TestBrowser(t *testing.T) {
	bin := testenv.LookPath(t, "/usr/bin/chromium", "chromium", "chromium-browser")
	e := uiEnv(t)
	out := testOut(t)
	downloads := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(out, name+".png"), buf, 0o644)
		})
	}
	var text string
	step := func(name string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			var html string
			chromedp.Run(ctx, chromedp.OuterHTML("body", &html))
			t.Fatalf("%s: %v\npage: %.2000s", name, err, html)
		}
	}

	step("sign in",
		chromedp.Navigate(e.srv.URL+"/ui/users"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, adminPass),
		shot("01-sign-in"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`//h1[starts-with(., "Users")]`),
	)

	step("add a user",
		chromedp.Click(`//nav/a[. = "Add"]`),
		chromedp.WaitVisible(`input[name=full_name]`),
		chromedp.SendKeys(`input[name=name]`, "alice"),
		chromedp.SendKeys(`input[name=full_name]`, "Alice Martin"),
		chromedp.SendKeys(`input[name=email]`, "alice@example.com"),
		chromedp.SetValue(`select[name=os]`, "macos"),
		chromedp.SetValue(`select[name=lang]`, "fr"),
		shot("02-add-user"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &text),
	)
	if !strings.Contains(text, "alice: issued certificate") {
		t.Fatalf("after adding: flash %q", text)
	}

	roster, _ := filepath.Abs(filepath.Join("..", "roster", "testdata", "roster50.csv"))
	step("upload a roster",
		chromedp.Click(`//nav/a[. = "Import CSV"]`),
		chromedp.WaitVisible(`input[type=file]`),
		chromedp.SetUploadFiles(`input[type=file]`, []string{roster}),
		chromedp.Click(`//button[. = "Upload and onboard"]`),
		chromedp.WaitVisible(`table.refused`),
		chromedp.Text(`#result .summary`, &text),
		shot("03-import-result"),
	)
	if !strings.Contains(text, "47 issued") || !strings.Contains(text, "3 refused") {
		t.Fatalf("import summary: %q", text)
	}
	var refused []string
	step("read refused rows", chromedp.Evaluate(`Array.from(document.querySelectorAll("table.refused tbody tr td:first-child")).map(td => td.textContent)`, &refused))
	if strings.Join(refused, ",") != "12,27,42" {
		t.Fatalf("refused lines: %v", refused)
	}

	step("search as you type",
		chromedp.Click(`//nav/a[. = "Users"]`),
		chromedp.WaitVisible(`input[name=q]`),
		shot("04-users"),
		chromedp.SendKeys(`input[name=q]`, "martin"),
		chromedp.WaitNotPresent(`//a[@href="/ui/users/user01"]`),
		chromedp.WaitVisible(`//a[@href="/ui/users/alice"]`),
		shot("05-users-search"),
	)

	step("revoke after confirming",
		chromedp.Navigate(e.srv.URL+"/ui/users/user01"),
		chromedp.Click(`//a[. = "Revoke…"]`),
		chromedp.WaitVisible(`input[name=confirm]`),
		chromedp.Text(`h1`, &text),
	)
	if text != "Revoke user01?" {
		t.Fatalf("confirmation heading: %q", text)
	}
	step("confirm",
		chromedp.SendKeys(`input[name=confirm]`, "user01"),
		chromedp.SetValue(`select[name=reason]`, "affiliation-changed"),
		shot("06-revoke-confirm"),
		chromedp.Click(`//button[. = "Revoke user01"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.badge`, &text),
		shot("07-revoked"),
	)
	if text != "revoked" {
		t.Fatalf("status after revoking: %q", text)
	}

	step("download a bundle",
		cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads).WithEventsEnabled(true),
		chromedp.Navigate(e.srv.URL+"/ui/users/alice"),
		chromedp.WaitVisible(`//a[. = "Download bundle (.zip)"]`),
		shot("08-user"),
		chromedp.Click(`//a[. = "Download bundle (.zip)"]`),
	)
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(downloads, "alice.zip"))
		if err == nil && len(b) > 1000 && string(b[:2]) == "PK" {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no alice.zip downloaded (folder: %v)", entries)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var overflow bool
	step("readable on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(e.srv.URL+"/ui/users"),
		chromedp.WaitVisible(`input[name=q]`),
		chromedp.Evaluate(`document.documentElement.scrollWidth > 391`, &overflow),
		shot("10-phone"),
		chromedp.EmulateViewport(1280, 900),
	)
	if overflow {
		t.Fatal("the users page scrolls sideways on a 390 px wide phone")
	}

	step("servers and audit",
		chromedp.Navigate(e.srv.URL+"/ui/audit?target=user01"),
		chromedp.WaitVisible(`//td[. = "user.revoke"]`),
		shot("09-audit"),
	)
	browseSessions(t, e, step, shot)
	t.Logf("screenshots in %s", out)
}
