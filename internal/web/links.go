package web

import (
	"embed"
	"errors"
	"html/template"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

//go:embed templates static
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "templates/link*.html"))

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

// linkPage shows the instructions and the download button. Showing the
// page does not use the link up (mail scanners fetch links); the POST does.
func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	v, err := s.auth.OpenLink(r.Context(), r.PathValue("token"))
	if err != nil {
		s.linkError(w, r, err)
		return
	}
	pages.ExecuteTemplate(w, "link.html", map[string]any{
		"User": v.User, "FullName": v.FullName, "OS": v.OS, "Lang": v.Lang,
		"Expires": v.ExpiresAt.Format("2006-01-02 15:04 MST"), "Readme": v.Readme,
	})
}

// linkDownload uses the link up and sends the profile (or the zip).
func (s *Server) linkDownload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	asZip := r.FormValue("format") == "zip"
	d, err := s.auth.RedeemLink(r.Context(), r.PathValue("token"), remoteIP(r), asZip)
	if err != nil {
		noStore(w)
		s.linkError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Name+`"`)
	w.Write(d.Data)
}

func (s *Server) linkError(w http.ResponseWriter, r *http.Request, err error) {
	title, msg, code := "Link not found", "This link does not exist.", http.StatusNotFound
	switch {
	case errors.Is(err, authority.ErrLinkUsed):
		title, msg, code = "This link was already used", "Each link works only once, and this one has been used.", http.StatusGone
	case errors.Is(err, authority.ErrLinkExpired):
		title, msg, code = "This link has expired", "Links stop working after a while, for your safety.", http.StatusGone
	case errors.Is(err, authority.ErrNotActive):
		title, msg, code = "This access is no longer active", "The VPN access behind this link was revoked or has expired.", http.StatusGone
	case !errors.Is(err, authority.ErrLinkUnknown):
		s.log.Error("link page failed", "err", err)
		title, msg, code = "Something went wrong", "The link could not be served right now.", http.StatusInternalServerError
	}
	contact := s.auth.Contact()
	if contact == "" {
		contact = "your administrator"
	}
	w.WriteHeader(code)
	pages.ExecuteTemplate(w, "link_error.html", map[string]any{"Title": title, "Message": msg, "Contact": contact})
}
