// Package mail delivers vpnkeys' mails over SMTP (STARTTLS or implicit TLS,
// with AUTH) and holds their texts: the one-time link mail to an employee
// and the bundle mail to the admin, in every supported language. Transient
// failures are retried with exponential backoff; permanent ones are not.
package mail
