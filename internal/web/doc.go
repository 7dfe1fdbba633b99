// Package web is vpnkeys' HTTP front end: the REST API under /api/v1 (bearer
// tokens), the one-time link pages under /l/, the CRL, health and
// Prometheus metrics. Like the CLI it only translates: every operation is
// the authority's. Errors become HTTP statuses in one table (status), and
// what a client sees never includes SQL, file paths or secrets.
//
// Link tokens are secrets in URLs, so the request log redacts /l/ paths
// and link pages send no Referer and are never cached.
package web
