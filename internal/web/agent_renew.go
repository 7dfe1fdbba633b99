package web

import (
	"errors"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// agentRenew issues the calling agent a new certificate for the new key
// of its request (agentwire.RenewPath), in place of the one it called
// with, which is superseded at once. agentOnly admitted the caller; the
// authority checks again, in the transaction, that it is still current,
// and that refusal too is answered 403.
func (s *Server) agentRenew(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJoinBody)
	var req agentwire.RenewRequest
	if err := decodeLimited(r, &req); err != nil {
		return err
	}
	res, err := s.auth.RenewAgent(r.Context(), peerCert(r), r.PathValue("server"), req.CSR, remoteIP(r))
	if errors.Is(err, authority.ErrAgentRefused) {
		s.writeRefusal(w, r, err)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
