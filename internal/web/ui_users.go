package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// PageSize is how many users a page lists.
const PageSize = 50

type userRow struct {
	authority.UserView
	LinkSent, LinkOpened string
}

type usersData struct {
	page
	Users            []userRow
	Total, From, To  int
	Q, Status, Sort  string
	Desc             bool
	Statuses         []string
	PrevURL, NextURL string
	offset           int
}

func (d usersData) url(offset int, sort string, desc bool) string {
	v := url.Values{}
	for k, val := range map[string]string{"q": d.Q, "status": d.Status, "sort": sort} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if desc {
		v.Set("desc", "1")
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return "/ui/users?" + v.Encode()
}

// SortURL sorts by col, flipping the order when already sorted by it.
func (d usersData) SortURL(col string) string {
	return d.url(0, col, d.Sort == col && !d.Desc)
}

func ago(unix int64) string {
	if unix == 0 {
		return "–"
	}
	return time.Unix(unix, 0).UTC().Format("2006-01-02")
}

// uiUsers lists users a page at a time; searching, filtering and sorting
// happen in the database, so 10,000 users cost what 50 do.
func (s *Server) uiUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := usersData{page: page{Title: "Users", Admin: adminOf(r.Context()), Flash: q.Get("flash")},
		Q: q.Get("q"), Status: q.Get("status"), Sort: q.Get("sort"), Desc: q.Get("desc") == "1",
		Statuses: []string{"", authority.StatusActive, authority.StatusExpiring, authority.StatusExpired, authority.StatusRevoked, authority.StatusNone}}
	d.offset, _ = strconv.Atoi(q.Get("offset"))
	d.offset = max(d.offset, 0)
	users, total, err := s.auth.List(r.Context(), authority.ListFilter{Search: d.Q, Status: d.Status, OrderBy: d.Sort, Desc: d.Desc, Limit: PageSize, Offset: d.offset})
	if err != nil {
		d.Error = err.Error()
		if code, _, _ := status(err); code == http.StatusInternalServerError {
			d.Error = "Listing users failed; see the server log."
			s.log.Error("listing users", "err", err)
		}
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
	}
	act, _ := s.auth.LinkActivity(r.Context(), names)
	for _, u := range users {
		a := act[u.Name]
		d.Users = append(d.Users, userRow{UserView: u, LinkSent: ago(a.LastSent), LinkOpened: ago(a.LastOpened)})
	}
	d.Total, d.From, d.To = total, min(d.offset+1, total), d.offset+len(users)
	if d.offset > 0 {
		d.PrevURL = d.url(max(d.offset-PageSize, 0), d.Sort, d.Desc)
	}
	if d.To < total {
		d.NextURL = d.url(d.offset+PageSize, d.Sort, d.Desc)
	}
	s.render(w, r, http.StatusOK, "users", d)
}

func (s *Server) uiNewUser(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "new", map[string]any{"Title": "Add a user", "Admin": adminOf(r.Context()),
		"OSes": []account.OS{account.Windows, account.MacOS, account.Linux, account.Android, account.IOS}, "Langs": account.Langs,
		"Groups": s.joinable(r.Context(), nil)})
}

func (s *Server) uiCreateUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	req := authority.UserRequest{Name: r.FormValue("name"), Email: r.FormValue("email"), FullName: r.FormValue("full_name"),
		OS: r.FormValue("os"), Lang: r.FormValue("lang"), Groups: r.Form["group"]}
	res, err := s.auth.AddUsers(r.Context(), []authority.UserRequest{req}, authority.AddOptions{})
	if err != nil {
		s.uiFail(w, r, "Adding the user failed", err, "/ui/users/new")
		return
	}
	verb := "kept their valid certificate"
	if res[0].Issued {
		verb = "issued certificate " + res[0].Serial
	}
	http.Redirect(w, r, "/ui/users/"+req.Name+"?flash="+url.QueryEscape(req.Name+": "+verb+"."), http.StatusSeeOther)
}

// uiFail shows a refusal as a page, with the domain's status code.
func (s *Server) uiFail(w http.ResponseWriter, r *http.Request, heading string, err error, back string) {
	code, _, public := status(err)
	msg := fault.Message(err)
	if !public {
		s.log.Error(heading, "err", err)
		msg = "Something went wrong; see the server log."
	}
	s.render(w, r, code, "message", map[string]any{"Title": heading, "Admin": adminOf(r.Context()), "Heading": heading,
		"Error": msg, "Back": back})
}

func (s *Server) uiUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	d, err := s.auth.Show(r.Context(), name)
	if err != nil {
		s.uiFail(w, r, "No such user", err, "/ui/users")
		return
	}
	evs, _ := s.auth.Audit(r.Context(), authority.AuditFilter{Target: name, Limit: 50})
	act, _ := s.auth.LinkActivity(r.Context(), []string{name})
	s.render(w, r, http.StatusOK, "user", map[string]any{"Title": name, "Admin": adminOf(r.Context()), "Flash": r.URL.Query().Get("flash"),
		"User": d, "Events": evs, "LinkSent": ago(act[name].LastSent), "LinkOpened": ago(act[name].LastOpened),
		"AllGroups": s.joinable(r.Context(), d.Groups), "Sessions": s.userSessions(r.Context(), name)})
}

func (s *Server) uiBundle(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	d, err := s.auth.BundleZip(r.Context(), name)
	if err != nil {
		s.uiFail(w, r, "No bundle", err, "/ui/users/"+name)
		return
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", d.Name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(d.Data)
}

func (s *Server) uiSend(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	res, err := s.auth.Send(r.Context(), s.mailer, authority.SendRequest{User: name})
	if err != nil && res.Link.URL == "" {
		s.uiFail(w, r, "Sending failed", err, "/ui/users/"+name)
		return
	}
	lines := []string{fmt.Sprintf("A one-time link was mailed to %s. It expires %s.", res.To, res.Link.ExpiresAt.Format("2006-01-02 15:04 MST"))}
	if err != nil {
		lines = []string{"The mail could not be delivered: " + err.Error(), "Hand over this link another way; it works once:"}
	}
	s.render(w, r, http.StatusOK, "message", map[string]any{"Title": "Link sent", "Admin": adminOf(r.Context()), "Heading": "Link for " + name,
		"Lines": lines, "Code": res.Link.URL, "Back": "/ui/users/" + name})
}

func (s *Server) uiLink(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	l, err := s.auth.CreateLink(r.Context(), name, 0)
	if err != nil {
		s.uiFail(w, r, "Making a link failed", err, "/ui/users/"+name)
		return
	}
	s.render(w, r, http.StatusOK, "message", map[string]any{"Title": "One-time link", "Admin": adminOf(r.Context()), "Heading": "One-time link for " + name,
		"Lines": []string{"Give this link to " + name + ". It works once and expires " + l.ExpiresAt.Format("2006-01-02 15:04 MST") + "."},
		"Code":  l.URL, "Back": "/ui/users/" + name})
}

func (s *Server) uiRenew(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	res, err := s.auth.Renew(r.Context(), name, authority.AddOptions{Reinstate: r.FormValue("reinstate") != ""})
	if err != nil {
		s.uiFail(w, r, "Renewing failed", err, "/ui/users/"+name)
		return
	}
	flash := "New certificate " + res.Serial + " issued; the old one is revoked."
	if res.Reinstated {
		flash = name + " reinstated: new certificate " + res.Serial + " issued."
	}
	http.Redirect(w, r, "/ui/users/"+name+"?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}

func (s *Server) uiRevokeConfirm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	if err := account.ValidName(name); err != nil {
		s.uiFail(w, r, "No such user", err, "/ui/users")
		return
	}
	s.render(w, r, http.StatusOK, "revoke", map[string]any{"Title": "Revoke " + name, "Admin": adminOf(r.Context()), "Name": name})
}

var errNotConfirmed = fmt.Errorf("%w: type the user name to confirm", errBadRequest)

func (s *Server) uiRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.PathValue("user")
	if r.FormValue("confirm") != name {
		s.uiFail(w, r, "Not revoked", errNotConfirmed, "/ui/users/"+name+"/revoke")
		return
	}
	reason, err := r.FormValue("reason"), authority.ValidReason(r.FormValue("reason"))
	if err == nil {
		_, err = s.auth.Revoke(r.Context(), name, reason)
	}
	if err != nil {
		s.uiFail(w, r, "Revoking failed", err, "/ui/users/"+name)
		return
	}
	http.Redirect(w, r, "/ui/users/"+name+"?flash="+url.QueryEscape(name+" revoked; every server refuses them from now on."), http.StatusSeeOther)
}
