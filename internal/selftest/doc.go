// Package selftest proves from the outside that an OpenVPN server works:
// it runs a real OpenVPN client with a probe identity that must get a
// tunnel, another with a revoked probe certificate that the server must
// refuse, and checks that the CRL the server holds is the newest and not
// close to its nextUpdate. `vpnkeys selftest` runs it from anywhere, the
// agent on a schedule against its own server.
//
// The clients run unprivileged: the probe profiles say `dev null`,
// `ifconfig-noexec` and `route-noexec`, so no tun device is made and
// nothing on the host changes. Each client gets a 0700 temporary folder
// holding its profile (0600), removed when it ends, and is stopped with
// SIGTERM (SIGKILL if it lingers).
package selftest
