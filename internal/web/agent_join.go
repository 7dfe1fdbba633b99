package web

import (
	"crypto/x509"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
	"github.com/vpnkeys/vpnkeys/internal/fault"
)

// maxJoinBody bounds a join request: a secret and a CSR of a few hundred
// bytes (an RSA 4096 one is under 2 KiB, base64 in JSON).
const maxJoinBody = 16 << 10

// agentJoin spends a join token and returns the agent's certificate.
func (s *Server) agentJoin(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJoinBody)
	var req agentwire.JoinRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := s.auth.JoinAgent(r.Context(), req, remoteIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
	return nil
}

// agentOnly admits a request only with a verified agent certificate of
// the server named in the path: the authority checks it against the
// database on every request (a superseded or removed agent is refused at
// once) and audits every refusal, which is answered 403. An admitted
// request's actor is "agent:NAME".
func (s *Server) agentOnly(next apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server := r.PathValue("server")
		if err := s.auth.AuthorizeAgent(r.Context(), peerCert(r), server, remoteIP(r)); err != nil {
			s.writeRefusal(w, r, err)
			return
		}
		ctx := authority.WithActor(r.Context(), authority.Actor{Name: "agent:" + server, Source: remoteIP(r)})
		w.Header().Set("Cache-Control", "no-store")
		s.handle(next)(w, r.WithContext(ctx))
	})
}

// peerCert is the client certificate the TLS handshake verified against
// the CA, or nil (no TLS, no certificate, or not verified).
func peerCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// writeRefusal answers a refused agent 403: a certificate was checked and
// does not grant this request. Other errors (the database is down) take
// the usual path.
func (s *Server) writeRefusal(w http.ResponseWriter, r *http.Request, err error) {
	if fault.KindOf(err) != fault.Unauthorized {
		s.writeError(w, r, err)
		return
	}
	var body apiError
	body.Error.Code = fault.CodeOf(err)
	body.Error.Message = fault.Message(err)
	writeJSON(w, http.StatusForbidden, body)
}
