package authority

import "github.com/vpnkeys/vpnkeys/internal/fault"

// Sentinel errors. Each carries its kind and code (package fault), which
// the front ends map; their texts never quote a front end's commands or
// flags, since an API client reads them too: the CLI adds its own hints.
var (
	ErrNotInitialized = fault.New(fault.Unavailable, "not_initialized", "no CA yet")
	ErrInitialized    = fault.New(fault.Conflict, "initialized", "a CA already exists in this database")
	ErrLocked         = fault.New(fault.Unavailable, "locked", "the CA is locked")
	ErrUserNotFound   = fault.New(fault.NotFound, "not_found", "no such user")
	ErrServerNotFound = fault.New(fault.NotFound, "not_found", "no such server")
	ErrServerExists   = fault.New(fault.Conflict, "exists", "a server with this name already exists")
	ErrNoServers      = fault.New(fault.Conflict, "no_servers", "no OpenVPN server registered")
	ErrNotActive      = fault.New(fault.Conflict, "not_active", "user has no active certificate")
)
