package authority

import "errors"

// Sentinel errors; the front ends map them to exit codes and HTTP statuses.
var (
	ErrNotInitialized = errors.New("no CA yet: run vpnkeys init first")
	ErrInitialized    = errors.New("a CA already exists in this database")
	ErrLocked         = errors.New("the CA is locked")
	ErrUserNotFound   = errors.New("no such user")
	ErrServerNotFound = errors.New("no such server")
	ErrServerExists   = errors.New("a server with this name already exists")
	ErrNoServers      = errors.New("no OpenVPN server registered: add one with vpnkeys server add NAME --remote HOST:PORT")
	ErrNotActive      = errors.New("user has no active certificate")
)
