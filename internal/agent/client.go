package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
)

// Client talks to the control plane as a joined agent: mutual TLS with
// the agent's certificate, and the CA pinned at join as the only root.
type Client struct {
	id   Identity
	base *url.URL

	mu   sync.Mutex // guards hc: a renewed CA root replaces it (ca_renewal.go)
	hc   *http.Client
	pair *tls.Certificate // the agent's key and certificate; a renewal replaces it (renew.go)
}

// NewClient loads the identity Join left in stateDir.
func NewClient(stateDir string) (*Client, error) {
	l, err := load(stateDir)
	if err != nil {
		return nil, err
	}
	roots, err := rootPool(stateDir) // the pinned CA and its renewals (ca_renewal.go)
	if err != nil {
		return nil, ErrNotJoined.With(err)
	}
	c := &Client{id: l.Identity, base: l.base, pair: &l.cert}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
		ServerName: hostOf(l.base),
		// Read at each handshake: a renewal (renew.go) takes effect on
		// the next connection.
		GetClientCertificate: c.clientCert,
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, IdleConnTimeout: 2 * agentwire.MaxWait,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: agentwire.MaxWait + 30*time.Second}
	c.hc = &http.Client{Transport: tr, CheckRedirect: noRedirect}
	return c, nil
}

// Identity is the server and control plane this agent belongs to.
func (c *Client) Identity() Identity { return c.id }

// Close drops idle connections.
func (c *Client) Close() { c.httpClient().CloseIdleConnections() }

// State long-polls the desired state: it returns the state and true when
// the control plane has a version above since, or false when wait ran out
// with nothing newer (304).
func (c *Client) State(ctx context.Context, since int64, wait time.Duration) (agentwire.State, bool, error) {
	q := url.Values{}
	q.Set(agentwire.QuerySince, strconv.FormatInt(since, 10))
	q.Set(agentwire.QueryWait, strconv.Itoa(int(wait/time.Second)))
	ctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+agentwire.StatePath(c.id.Server)+"?"+q.Encode(), nil)
	if err != nil {
		return agentwire.State{}, false, fmt.Errorf("asking for state: %w", err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return agentwire.State{}, false, fmt.Errorf("asking for state: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return agentwire.State{}, false, nil
	case http.StatusOK:
	default:
		return agentwire.State{}, false, fmt.Errorf("asking for state: %w", answerError(resp))
	}
	var st agentwire.State
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxBody))
	if err := dec.Decode(&st); err != nil {
		// Not ErrMalformedState: the version is unknown, so the agent
		// retries with backoff rather than skipping it.
		return agentwire.State{}, false, fmt.Errorf("reading state: %w", err)
	}
	// Read to the end, so the connection (and its TLS session) is reused
	// for the next long-poll instead of a new handshake per change.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return st, true, nil
}

// Report posts what the agent applied and who is connected.
func (c *Client) Report(ctx context.Context, r agentwire.Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+agentwire.ReportPath(c.id.Server), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("reporting: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("reporting: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("reporting: %w", answerError(resp))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}
