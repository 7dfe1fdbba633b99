package web

import (
	"errors"
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// agentRenew issues the calling agent a new certificate for the new key
// of its request (agentwire.RenewPath), in place of the one it called
// with, which is superseded at once. It is not behind agentOnly: the
// authority admits the caller itself (the current agent certificate of
// the path's server, or, to send a renewal's lost answer again, the one
// it superseded together with the new key's CSR) and audits a refusal,
// answered 403.
func (s *Server) agentRenew(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxJoinBody)
	var req agentwire.RenewRequest
	if err := decodeLimited(r, &req); err != nil {
		return err
	}
	res, err := s.auth.RenewAgent(r.Context(), peerCert(r), r.PathValue("server"), remoteIP(r), req.CSR)
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
