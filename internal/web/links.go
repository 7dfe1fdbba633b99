package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sync"

	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

//go:embed templates static
var assets embed.FS

// pages are the link pages' templates, parsed on first use (not at
// package initialisation, which every CLI run pays for).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(assets, "templates/link*.html"))
})

func serveCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("static/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
}

// linkPage shows the instructions and the download button, in the
// employee's language. Showing the page does not use the link up (mail
// scanners fetch links); the POST does.
func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	v, err := s.auth.OpenLink(linkActor(r), r.PathValue("token"))
	if err != nil {
		s.linkError(w, v.Lang, err)
		return
	}
	t := textsFor(v.Lang)
	who := v.FullName
	if who == "" {
		who = v.User
	}
	// The QR code carries the link itself, so a phone can open this page;
	// it is only on the page the token already opens, which no one caches.
	qr, err := qrSVG(v.URL, t["qr_label"])
	if err != nil {
		s.log.Error("link page QR code failed", "err", err) // the error holds no token
		qr = ""
	}
	pages().ExecuteTemplate(w, "link.html", map[string]any{
		"Lang": v.Lang, "OS": v.OS, "Readme": unwrapReadme(v.Readme),
		"Title":    fmt.Sprintf(t["title"], who),
		"Once":     fmt.Sprintf(t["once"], v.ExpiresAt.Format("2006-01-02 15:04 MST")),
		"Download": fmt.Sprintf(t["download"], v.User),
		"Zip":      t["zip"],
		"QR":       qr, "ScanText": t["qr"],
		"Renew": renewText(v, t),
	})
}

// renewText is the renewal link's notice on the link page ("" otherwise).
func renewText(v authority.LinkView, t map[string]string) string {
	if !v.Renew {
		return ""
	}
	return t["renew"]
}

// linkDownload uses the link up and sends the profile (or the zip).
func (s *Server) linkDownload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	asZip := r.FormValue("format") == "zip"
	d, err := s.auth.RedeemLink(linkActor(r), r.PathValue("token"), remoteIP(r), asZip)
	if err != nil {
		noStore(w)
		s.linkError(w, s.linkLang(r, err), err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Name+`"`)
	w.Write(d.Data)
}

// linkPageOf names the link page text for each error code a link can meet.
var linkPageOf = map[string]string{
	"link_unknown": "unknown",
	"link_used":    "used",
	"link_expired": "expired",
	"not_active":   "inactive",
	"renew_stale":  "stale", // a renewal link whose certificate changed
}

func (s *Server) linkError(w http.ResponseWriter, lang string, err error) {
	t := textsFor(lang)
	// The page's text by the error's code; a link that cannot be used any
	// more is Gone, an unknown one Not Found.
	key, ok := linkPageOf[fault.CodeOf(err)]
	code := http.StatusGone
	switch {
	case !ok:
		s.log.Error("link page failed", "err", err)
		key, code = "error", http.StatusInternalServerError
	case fault.KindOf(err) == fault.NotFound:
		code = http.StatusNotFound
	}
	contact := s.auth.Contact()
	if contact == "" {
		contact = t["admin"]
	}
	w.WriteHeader(code)
	pages().ExecuteTemplate(w, "link_error.html", map[string]any{"Lang": lang, "Title": t[key], "Message": t[key+"_msg"],
		"Ask": fmt.Sprintf(t["ask"], contact)})
}

// linkActor tags a link request for the audit log: the employee holding
// the link, from their address (ActorFrom would say "unknown").
func linkActor(r *http.Request) context.Context {
	return authority.WithActor(r.Context(), authority.Actor{Name: "link", Source: remoteIP(r)})
}

// linkLang finds the language of a used or expired link's user, so the
// page after a second click speaks the language the first one did.
// OpenLink changes nothing for such links.
func (s *Server) linkLang(r *http.Request, err error) string {
	if !errors.Is(err, authority.ErrLinkUsed) && !errors.Is(err, authority.ErrLinkExpired) && !errors.Is(err, authority.ErrRenewStale) {
		return ""
	}
	v, _ := s.auth.OpenLink(r.Context(), r.PathValue("token"))
	return v.Lang
}
