package agent

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/pki"
)

// This file is a control plane stand-in: an httptest TLS server with a
// CA of the test's own that serves agentwire's join, state long-poll and
// report, as serve's agent listener does. The real listener is tested
// end to end elsewhere; this one lets the agent's tests run alone.

const testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ"

type testCA struct {
	*pki.CA
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	k, err := pki.GenerateKey(pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA(k, name, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return testCA{ca}
}

// issue makes a key and a certificate of role.
func (ca testCA) issue(t *testing.T, role pki.Role, cn string, hosts ...string) (*x509.Certificate, []byte) {
	t.Helper()
	k, err := pki.GenerateKey(pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(pki.Leaf{Role: role, CommonName: cn, PublicKey: k.Public(), Days: 1, Now: time.Now(), Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := pki.MarshalKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return c, kp
}

func (ca testCA) token() string {
	return agentwire.FormatToken(agentwire.Fingerprint(ca.Cert.Raw), testSecret)
}

// controlPlane is the stand-in.
type controlPlane struct {
	t      *testing.T
	ca     testCA
	server string
	srv    *httptest.Server

	mu      sync.Mutex
	state   agentwire.State
	changed chan struct{} // closed and replaced on every set
	reports []agentwire.Report
	joins   int
	renews  int // renewal requests (renew_test.go)
}

// newControlPlane serves on 127.0.0.1 with a certificate of tlsCA
// (normally ca; another CA to test the pin) for hosts.
func newControlPlane(t *testing.T, ca, tlsCA testCA, server string, hosts ...string) *controlPlane {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	cp := &controlPlane{t: t, ca: ca, server: server, changed: make(chan struct{})}
	leaf, key := tlsCA.issue(t, pki.Server, "vpnkeys-control-plane", hosts...)
	cert, err := tls.X509KeyPair(append(pki.CertPEM(leaf), pki.CertPEM(tlsCA.Cert)...), key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+agentwire.PathJoin, cp.join)
	mux.HandleFunc("GET "+agentwire.PathServers+"{server}/state", cp.getState)
	mux.HandleFunc("POST "+agentwire.PathServers+"{server}/report", cp.report)
	mux.HandleFunc("POST "+agentwire.PathServers+"{server}/renew", cp.renew)
	cp.srv = httptest.NewUnstartedServer(mux)
	cp.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: roots}
	cp.srv.StartTLS()
	t.Cleanup(cp.srv.Close)
	return cp
}

func (cp *controlPlane) url() string { return cp.srv.URL }

// down stops serving; up serves again on the same address.
func (cp *controlPlane) down() { cp.srv.Close() }

func (cp *controlPlane) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", strings.TrimPrefix(cp.srv.URL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(cp.srv.Config.Handler)
	srv.Listener.Close()
	srv.Listener, srv.TLS = ln, cp.srv.TLS
	srv.StartTLS()
	cp.srv = srv
	t.Cleanup(srv.Close)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "refused", "message": msg}})
}

func (cp *controlPlane) join(w http.ResponseWriter, r *http.Request) {
	var req agentwire.JoinRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Secret != testSecret {
		apiError(w, http.StatusUnauthorized, "unknown, used or expired join token")
		return
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil || csr.CheckSignature() != nil {
		apiError(w, http.StatusBadRequest, "bad certificate request")
		return
	}
	c, err := cp.ca.Issue(pki.Leaf{Role: pki.Agent, CommonName: "agent:" + cp.server, PublicKey: csr.PublicKey, Days: 1, Now: time.Now()})
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	cp.mu.Lock()
	cp.joins++
	cp.mu.Unlock()
	json.NewEncoder(w).Encode(agentwire.JoinResponse{Server: cp.server, Cert: pki.CertPEM(c), CA: pki.CertPEM(cp.ca.Cert)})
}

// agentOK checks the client certificate, as serve's agentOnly does.
func (cp *controlPlane) agentOK(w http.ResponseWriter, r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || !pki.IsAgent(r.TLS.PeerCertificates[0]) ||
		r.TLS.PeerCertificates[0].Subject.CommonName != "agent:"+r.PathValue("server") || r.PathValue("server") != cp.server {
		apiError(w, http.StatusForbidden, "not this server's agent")
		return false
	}
	return true
}

func (cp *controlPlane) getState(w http.ResponseWriter, r *http.Request) {
	if !cp.agentOK(w, r) {
		return
	}
	since, err1 := strconv.ParseInt(r.URL.Query().Get(agentwire.QuerySince), 10, 64)
	wait, err2 := strconv.Atoi(r.URL.Query().Get(agentwire.QueryWait))
	if err1 != nil || err2 != nil {
		apiError(w, http.StatusBadRequest, "bad since or wait")
		return
	}
	timer := time.NewTimer(time.Duration(wait) * time.Second)
	defer timer.Stop()
	for {
		cp.mu.Lock()
		st, ch := cp.state, cp.changed
		cp.mu.Unlock()
		if st.Version > since {
			json.NewEncoder(w).Encode(st)
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			w.WriteHeader(http.StatusNotModified)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (cp *controlPlane) report(w http.ResponseWriter, r *http.Request) {
	if !cp.agentOK(w, r) {
		return
	}
	var rep agentwire.Report
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
		apiError(w, http.StatusBadRequest, "bad report")
		return
	}
	cp.mu.Lock()
	cp.reports = append(cp.reports, rep)
	cp.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// set publishes st as the next version.
func (cp *controlPlane) set(st agentwire.State) agentwire.State {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	st.Server = cp.server
	st.Version = cp.state.Version + 1
	if st.Hash == "" {
		st.Hash = hashOf(st)
	}
	cp.state = st
	close(cp.changed)
	cp.changed = make(chan struct{})
	return st
}

// lastReport waits for a report that ok accepts.
func (cp *controlPlane) waitReport(t *testing.T, what string, ok func(agentwire.Report) bool) agentwire.Report {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cp.mu.Lock()
		for i := len(cp.reports) - 1; i >= 0; i-- {
			if ok(cp.reports[i]) {
				rep := cp.reports[i]
				cp.mu.Unlock()
				return rep
			}
		}
		cp.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no report with %s", what)
	return agentwire.Report{}
}

// hashOf is the stand-in's digest of a state (everything but version and time).
func hashOf(st agentwire.State) string {
	st.Version, st.At = 0, time.Time{}
	b, _ := json.Marshal(st)
	return hex.EncodeToString(agentwire.Fingerprint(b))
}
