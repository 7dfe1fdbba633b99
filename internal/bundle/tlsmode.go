package bundle

import (
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/ovpn"
)

// profiles renders the user's profiles. A profile's `remote` lines are
// tried in turn with one control-channel key, so servers are grouped by
// their mode (in the order of their first server): d.Profile holds the
// first group, as before issue 14, and each other group gets
// USER-MODE.ovpn with the same certificate and key.
func (t *Templates) profiles(d Data) ([]File, error) {
	groups := groupByMode(d.Servers)
	files := make([]File, 0, len(groups))
	for i, g := range groups {
		pd := d
		pd.Servers, pd.TLSMode = g.servers, g.mode
		if i > 0 {
			pd.Profile = strings.TrimSuffix(d.Profile, ".ovpn") + "-" + string(g.mode) + ".ovpn"
		}
		profile, err := execute(t.profile, pd)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: pd.Profile, Mode: 0o600, Data: profile})
	}
	return files, nil
}

type modeGroup struct {
	mode    ovpn.TLSMode
	servers []Server
}

// groupByMode splits servers by mode, keeping their order within each
// group; no servers make one group of the default mode.
func groupByMode(servers []Server) []modeGroup {
	var out []modeGroup
	idx := map[ovpn.TLSMode]int{}
	for _, s := range servers {
		m := s.TLSMode.OrDefault()
		i, ok := idx[m]
		if !ok {
			i = len(out)
			idx[m] = i
			out = append(out, modeGroup{mode: m})
		}
		out[i].servers = append(out[i].servers, s)
	}
	if len(out) == 0 {
		out = append(out, modeGroup{mode: ovpn.TLSCrypt})
	}
	return out
}

// ModeProfiles counts the profiles of user's servers in files: USER.ovpn
// and one USER-MODE.ovpn for each further control-channel mode.
func ModeProfiles(user string, files []File) int {
	n := 0
	for _, f := range files {
		if f.Name == user+".ovpn" {
			n++
		}
		for _, m := range ovpn.TLSModes {
			if f.Name == user+"-"+string(m)+".ovpn" {
				n++
			}
		}
	}
	return n
}
