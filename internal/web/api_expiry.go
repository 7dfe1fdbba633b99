package web

import (
	"net/http"

	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// requestDays reads an optional "days" of a request: absent is 0 (the
// configured lifetime); present, it must be 1 to authority.MaxLeafDays,
// so that 0 or a negative number is refused rather than taken as absent.
func requestDays(p *int) (int, error) {
	if p == nil {
		return 0, nil
	}
	if err := authority.ValidLeafDays(*p); err != nil {
		return 0, err
	}
	return *p, nil
}

// listExpiring is GET /api/v1/expiring?within=30d: the user, server and CA
// certificates that end within the horizon, soonest first.
func (s *Server) listExpiring(w http.ResponseWriter, r *http.Request) error {
	within, err := authority.ParseWithin(r.URL.Query().Get("within"))
	if err != nil {
		return err
	}
	list, err := s.auth.Expiring(r.Context(), within)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"within": within.String(), "expiring": list})
	return nil
}
