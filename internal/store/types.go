package store

import (
	"time"

	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// Sentinel errors.
var (
	ErrNotFound = fault.New(fault.NotFound, "not_found", "not found")
	ErrExists   = fault.New(fault.Conflict, "exists", "already exists")
	// ErrConflict is returned when a concurrent change won a race (for
	// example another process issued the user's certificate first). Its
	// text may carry the database's words, so a client reads a fixed one.
	ErrConflict = fault.NewHidden(fault.Conflict, "conflict", "changed concurrently",
		"another change to the same record won; try again")
)

// Certificate kinds and states.
const (
	KindClient = "client"
	KindServer = "server"

	StateActive     = "active"
	StateRevoked    = "revoked"
	StateSuperseded = "superseded"
)

// CA is the certificate authority's row.
type CA struct {
	Algo      string
	CertPEM   string
	KeyPEM    string // encrypted PKCS#8 unless Encrypted is false
	Encrypted bool
	TLSCrypt  []byte // sealed tls-crypt key
	CreatedAt time.Time
}

// User is an employee with VPN access (or who had it).
type User struct {
	Name          string
	Email         string
	FullName      string
	OS            string
	Lang          string
	CurrentSerial string // latest certificate issued, "" if none
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Cert is an issued certificate.
type Cert struct {
	Serial    string
	Kind      string
	Subject   string
	CertPEM   string
	KeySealed []byte
	NotBefore time.Time
	NotAfter  time.Time
	State     string
	RevokedAt time.Time
	Reason    string
	CreatedAt time.Time
}

// UserCert is a user with their current certificate (nil when none).
type UserCert struct {
	User
	Cert *Cert
}

// Server is a registered OpenVPN server.
type Server struct {
	Name      string
	Host      string
	Port      int
	Proto     string
	Subnet    string
	CreatedAt time.Time
	// Pushed to clients: routes (CIDRs) and DNS servers, space-separated,
	// and a search domain; empty pushes nothing.
	PushRoutes string
	DNS        string
	Domain     string
	// CertDays is the lifetime of the server's certificate; 0: the default.
	CertDays int
	// TLSMode is the control channel's protection: tls-crypt, tls-auth or
	// tls-crypt-v2 ("" stores the default, tls-crypt).
	TLSMode string
}

// ServerOutput records a folder vpnkeys wrote a server's files to, so a new
// CRL can be put there too.
type ServerOutput struct {
	Server    string
	Host      string
	Dir       string
	WrittenAt time.Time
}

// CRL is the newest signed CRL.
type CRL struct {
	Number     int64
	DER        []byte
	ThisUpdate time.Time
	NextUpdate time.Time
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID     int64
	At     time.Time
	Actor  string
	Source string
	Action string
	Target string
	Detail string
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
