// Package ovpn knows OpenVPN's own formats: static keys (the tls-crypt key,
// ta.key), server addresses as `remote` lines, and the rendering of the
// server configuration. It does not know users or the database. Its
// subpackage mgmt is the client of OpenVPN's management interface.
package ovpn
