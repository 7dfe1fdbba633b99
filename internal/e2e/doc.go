// Package e2e proves what vpnkeys writes works with a real OpenVPN 2.6: a
// multi-client server runs the generated server.conf as written inside a
// private network namespace, and clients run the generated profiles as
// shipped. It holds tests only, plus the small harness they share.
package e2e
