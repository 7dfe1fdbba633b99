// Package mgmt is a client for OpenVPN 2.6's management interface, the
// socket an OpenVPN server opens with
//
//	management /run/DIR/NAME.sock unix [PASSWORD-FILE]
//
// (the recommended form; `management 127.0.0.1 PORT` works too). The
// vpnkeys agent runs beside each OpenVPN server and uses it to see who is
// connected (Status) and to end a revoked user's sessions (KillClient).
//
// # One client at a time
//
// OpenVPN serves one management client at a time: while one is attached
// it does not accept another. The kernel still completes a second
// connect(), but OpenVPN sends that connection nothing (no password
// prompt, no banner) until the first client leaves, so Dial times out
// waiting for the banner and returns ErrNoBanner. A second client that
// keeps waiting is served as soon as the first one closes (observed with
// OpenVPN 2.6.14; TestLive checks both). The agent must be the only
// consumer of the socket; an operator's `socat` left open on it locks the
// agent out.
//
// # Protocol
//
// A reader goroutine splits what OpenVPN sends into command replies (one
// "SUCCESS: ..." or "ERROR: ..." line, or a block of lines ending with
// "END") and real-time notifications (lines starting with '>', such as
// >LOG, >STATE, >BYTECOUNT_CLI, >HOLD, >CLIENT), which go to the handler
// given with WithNotify and never to a reply. Commands are serialised: one
// is on the wire at a time. A command whose context ends before its reply
// arrives returns at once; the reply, when it comes, is read and dropped
// before the next command is sent, so replies never shift.
//
// # Ending a session: client-kill with HALT, not kill CN
//
// `kill CN` ends the server side of every session with that common name
// and tells the client nothing: the client notices at its ping-restart
// (60 s) and reconnects, and a revoked client that the CRL then refuses
// keeps retrying forever. KillClient sends `client-kill CID "HALT,..."`
// instead: the client logs "Halt command was pushed by server" and exits.
// With the default message (RESTART) the client would reconnect at once.
// OpenVPN keeps the killed session in Status for about five seconds while
// the halt goes out. KillCommonName is there for completeness.
//
// # What status does not say
//
// `status 3` lists sessions by common name, addresses, byte counts and
// client ID; it carries no certificate serial. Telling a revoked
// certificate from a renewed one with the same common name needs the
// serial from elsewhere (`tls_serial_0` in a client-connect script, or
// the >CLIENT:ENV notifications of management-client-auth, which makes
// every login wait for the management client, so vpnkeys does not use it).
//
// The management password is a secret: it is written once to the socket
// and never logged nor put in an error.
package mgmt
