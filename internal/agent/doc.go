// Package agent is the vpnkeys agent: the process beside each OpenVPN
// server, in every datacenter, that keeps that server's files, CRL,
// client configs and firewall equal to what the database says, and takes
// a revoked user's live sessions away.
//
// Design notes (the room is named before it is furnished; see DESIGN.md).
//
// The database is the only source of truth. Every change an agent must
// learn of is written, in the transaction that makes it, to an outbox
// whose version only grows (authority.Changes): a revocation, a signed
// CRL, a server's settings or certificate. Versions commit in order, so an
// agent that has applied version N has everything up to N, and "what
// changed since N" is one query.
//
// An agent long-polls the control plane (vpnkeys serve, on a TLS listener
// of its own that requires an agent certificate) for a complete, versioned
// snapshot of its own server's desired state, and applies it whole and
// idempotently: files written atomically (crl.pem's mtime always moves:
// OpenVPN reloads it only when size or mtime changed), then every session
// whose certificate is revoked ended through OpenVPN's management
// interface with client-kill and a HALT message (internal/ovpn/mgmt), as a
// CRL alone leaves a connected user in for up to about two hours. It keeps
// the last snapshot on disk, applies it at start before it reaches the
// control plane, and keeps enforcing it while the control plane is away.
// Logins never depend on the agent or the control plane being up.
//
// An agent holds no CA key and can read only its own server's state.
package agent
