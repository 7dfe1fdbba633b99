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
// by a mutex here. A transaction that loses a race is retried from the
// start.
//
// The CA is unlocked once per process (Unlock) and kept in memory; from it a
// sealing key is derived that encrypts every other key at rest. Operations
// that sign need it; reads do not.
//
// Every change is written to the audit log in the transaction that makes it,
// with the actor taken from the context (WithActor).
package authority
