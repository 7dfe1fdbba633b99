package mail

// The mails of expiry warnings (issue 14).
const (
	WarnMail   Kind = "warn"   // to the employee: access ends soon, a renewal link
	DigestMail Kind = "digest" // to the admin: what expires soon
)

// WarnData fills an expiry warning: TextData (Link is the one-time renewal
// link, LinkExpires its end) plus the days left and the date access ends.
type WarnData struct {
	TextData
	DaysLeft int
	Expires  string // the certificate's end, 2006-01-02
}

// RenderWarn gives the subject and body of an expiry warning in lang
// (English when the language has no text).
func RenderWarn(lang string, d WarnData) (subject, body string, err error) {
	return render(WarnMail, lang, d)
}

// DigestItem is one certificate in the admin's digest.
type DigestItem struct {
	Kind     string // user, server, ca
	Name     string
	Expires  string // 2006-01-02
	DaysLeft int
	NoEmail  bool // a user who gets no warning: no address
}

// DigestData fills the admin's digest.
type DigestData struct {
	Company string
	Date    string // the day of the digest, 2006-01-02
	Items   []DigestItem
}

// RenderDigest gives the subject and body of the admin's digest (English).
func RenderDigest(d DigestData) (subject, body string, err error) {
	return render(DigestMail, "en", d)
}
