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
//
// # Joining (join.go)
//
// Join makes a P-256 key on the host and posts a certificate request with
// the join token's secret. The token also carries the SHA-256 of the CA
// certificate: the TLS handshake is accepted only if the listener's chain
// holds a certificate with that fingerprint and the leaf verifies against
// it alone for the URL's host, so a listener of another CA never sees the
// secret. The state folder (0700) then holds agent.key (0600), agent.crt,
// ca.crt (from then on the only root trusted) and agent.json; nothing is
// written unless a certificate was issued.
//
// # Renewing its certificate (renew.go)
//
// With a third of its certificate's lifetime (at most 30 days) left, the
// running agent renews it with a new key, replaces agent.key and agent.crt
// so that a crash leaves a matching pair, and presents the new one from
// the next connection on; failures are retried with backoff and reported.
//
// # Applying a state (state.go, apply.go)
//
// A state is checked whole before anything is written (Validate): it is
// for this server, its files are plain names from AllowedFiles with a
// mode of 0600, 0644 or 0755, its serials and users parse. A malformed
// state is rejected, counted and reported, and the previous one stays.
// Apply writes every changed file to a temporary file beside it and
// fsyncs it; only when all are written are they renamed and the folder
// fsynced, so a full disk leaves every old file in place. The new
// crl.pem's mtime is set, before its rename, past the old one's second.
// A change of a RestartFiles file runs --restart-command (sh -c, with a
// timeout, output logged); crl.pem never restarts OpenVPN. The applied
// state is saved as state.json (0600: it holds server.key).
//
// # Client configs and the firewall (apply.go, firewall.go)
//
// The state's files include one client-config file per user, named
// "ccd/USER" (the only names with a slash Validate accepts); Apply writes
// them into ccd/ (0755) in the same step as the other files and removes,
// after the renames, every other file in ccd/: the generated server.conf
// has ccd-exclusive, so a user without a file is refused. The state's
// Firewall is an nftables ruleset for vpnkeys' own table, written as
// table / delete table / table {...}: applyFirewall loads it with
// `nft -f -` (one transaction) when its SHA-256 differs from the one in
// force. A ruleset nft refuses, or nft missing (--nft, else nft on PATH
// or /usr/sbin/nft), leaves the previous table in force, counts in
// vpnkeys_agent_apply_errors_total and is reported until one loads; the
// files are applied regardless. An empty Firewall removes nothing, and the
// agent never touches another table: Validate rejects a state whose
// ruleset says anything outside table inet vpnkeys (flush ruleset,
// another table, an include). The saved state's ruleset is loaded
// again at start, so a reboot, which empties the kernel's tables, gets
// the firewall back before the control plane answers.
//
// # Sessions (sessions.go)
//
// OpenVPN's `status 3` carries no certificate serial, so the generated
// server.conf runs vpnkeys-session.sh on client-connect and
// client-disconnect: it records "SERIAL CN" in RUNDIR/NAME.sessions/IP,PORT,
// where RUNDIR/NAME.sock is the management socket. The agent creates
// RUNDIR (0755) and the session folder (0700, owned by server.conf's
// user and group, as the hook runs after OpenVPN dropped privileges),
// reads the status, maps each session to its serial by its real address
// (a file naming another common name is stale and ignored), and ends with
// `client-kill CID "HALT,..."`: a session whose serial is in Revoked
// (compared as numbers: OpenVPN writes "0a:1b", the store "0A1B"), a
// session of unknown serial whose user is in Refused, and a session of a
// user named by an End entry that began at or before its Before. A
// renewed certificate's session keeps running while the old one ends.
//
// # Running (run.go, report.go, metrics.go)
//
// Run applies state.json, sweeps the sessions, then long-polls; a state
// whose Hash equals the applied one is not re-applied. The control plane
// being unreachable or failing means a retry after a backoff with jitter
// (0.5 s doubling to 30 s); meanwhile the sessions are swept every few
// seconds against the last state, so a session the CRL should have
// stopped ends even without a new version. A report (agentwire.Report:
// version, CRL, file hashes, sessions, kills, errors) goes out after each
// apply and every report interval, from a goroutine of its own so an
// absent control plane never delays a sweep. A CRL within 3 days of its
// nextUpdate is logged, reported and exported
// (vpnkeys_agent_crl_next_update_timestamp_seconds) with the other
// metrics on --metrics-listen.
//
// # Self-test (selftest.go)
//
// Every --selftest-interval the agent runs the state's two probe profiles
// (agentwire.Probe) against its own server over loopback with
// internal/selftest, checks the crl.pem in force against the state's CRL,
// and sends the result with its next report (Report.SelfTest). The
// probes' keys stay in memory and in state.json, never in the server's
// folder.
package agent
