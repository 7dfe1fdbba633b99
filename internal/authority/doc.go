// Package authority is vpnkeys' service: the one place where a user is
// onboarded, a certificate issued, renewed or revoked, a server's files
// produced and the CRL re-signed. The CLI, the REST API and the web pages
// are thin front ends over it, so every operation is written once.
//
// Design notes.
//
// State lives in the store (SQLite or PostgreSQL); files on disk (bundles,
// server folders, crl.pem) are outputs derived from it and can be written
// again at any time. An operation first does its slow, fallible work in
// memory and in staged files (keys, signatures, rendered templates), then
// commits the database transaction, then moves the staged files into place.
// A failure before the commit changes nothing; a failure after it leaves the
// database right and the previous files intact, and re-running the command
// rewrites them.
//
// Invariants that must survive several vpnkeys processes on one database
// (one active certificate per user, unique serials, a CRL number that only
// grows) are enforced by the store's constraints inside transactions, never
// by a mutex here. A transaction that loses a race (the store reports
// store.ErrConflict, recognised by the driver's error code) is retried
// from the start: every write transaction goes through withRetry (tx.go),
// and work that must plan again before it can retry (sign a certificate
// afresh after another process replaced the one it meant to supersede)
// passes its whole attempt to the same loop, retry.
//
// Every error carries its kind and code (package fault), decided where it
// is made: a user that does not exist is NotFound, bad input Invalid, a
// lost race or a name taken Conflict, a locked CA Unavailable. The front
// ends map kinds, nothing else; texts never quote a CLI command or flag,
// as an API client reads them too, and the CLI adds its own hints.
//
// The CA is unlocked once per process (Unlock) and kept in memory; from it a
// sealing key is derived that encrypts every other key at rest. Operations
// that sign need it; reads do not.
//
// Every change is written to the audit log in the transaction that makes it,
// with the actor taken from the context (WithActor).
package authority
