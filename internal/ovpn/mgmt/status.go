package mgmt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Status is what `status 3` reports about an OpenVPN server.
type Status struct {
	Title       string    // "OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] ..."
	Time        time.Time // when OpenVPN wrote it
	Sessions    []Session
	Routes      []Route
	GlobalStats map[string]string // "Max bcast/mcast queue length": "0", ...
}

// Session is one CLIENT_LIST row: a connected client. Status carries no
// certificate serial.
type Session struct {
	CommonName     string
	RealAddress    string         // as OpenVPN prints it
	RealAddr       netip.AddrPort // RealAddress parsed; zero when it is not IP:port
	VirtualAddress string         // "" until an address is assigned
	VirtualIPv6    string
	BytesReceived  uint64
	BytesSent      uint64
	ConnectedSince time.Time
	Username       string // "" when OpenVPN says UNDEF
	ClientID       uint64 // the CID that KillClient takes
	PeerID         uint64
	Cipher         string
}

// Route is one ROUTING_TABLE row: an address routed to a session.
type Route struct {
	VirtualAddress string
	CommonName     string
	RealAddress    string
	RealAddr       netip.AddrPort
	LastRef        time.Time
}

// Status runs `status 3` and parses its tab-separated output.
func (c *Client) Status(ctx context.Context) (Status, error) {
	lines, err := c.do(ctx, "status", "status 3")
	if err != nil {
		return Status{}, err
	}
	return parseStatusLines(lines)
}

// ParseStatus parses the output of `status 3` (up to its END line).
func ParseStatus(out []byte) (Status, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		l := strings.TrimSuffix(sc.Text(), "\r")
		if l == "END" {
			break
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return Status{}, fmt.Errorf("%w: reading status: %v", ErrMalformed, err)
	}
	return parseStatusLines(lines)
}

// columns maps a table's column names, from its HEADER line, to field
// positions in its rows.
type columns map[string]int

func (cols columns) get(f []string, name string) string {
	if i, ok := cols[name]; ok && i < len(f) {
		return f[i]
	}
	return ""
}

func (cols columns) uint(f []string, name string) (uint64, error) {
	s := cols.get(f, name)
	if s == "" || s == "UNDEF" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: column %q: %q is not a number", ErrMalformed, name, s)
	}
	return n, nil
}

func (cols columns) time(f []string, name string) (time.Time, error) {
	n, err := cols.uint(f, name)
	if err != nil || n == 0 {
		return time.Time{}, err
	}
	if n > 1<<40 {
		return time.Time{}, fmt.Errorf("%w: column %q: %d is not a time", ErrMalformed, name, n)
	}
	return time.Unix(int64(n), 0).UTC(), nil
}

func parseStatusLines(lines []string) (Status, error) {
	st := Status{GlobalStats: map[string]string{}}
	headers := map[string]columns{}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		var err error
		switch f[0] {
		case "TITLE":
			st.Title = strings.Join(f[1:], "\t")
		case "TIME":
			if len(f) >= 3 {
				st.Time, err = columns{"t": len(f) - 1}.time(f, "t")
			}
		case "HEADER":
			if len(f) < 2 {
				err = fmt.Errorf("%w: HEADER without a table name", ErrMalformed)
				break
			}
			cols := columns{}
			for j, name := range f[2:] {
				cols[name] = j + 1 // rows start with the table name
			}
			headers[f[1]] = cols
		case "GLOBAL_STATS":
			if len(f) >= 3 {
				st.GlobalStats[f[1]] = f[2]
			}
		case "CLIENT_LIST":
			var s Session
			if s, err = parseSession(headers[f[0]], f); err == nil {
				st.Sessions = append(st.Sessions, s)
			}
		case "ROUTING_TABLE":
			var r Route
			if r, err = parseRoute(headers[f[0]], f); err == nil {
				st.Routes = append(st.Routes, r)
			}
		}
		if err != nil {
			return Status{}, fmt.Errorf("parsing status line %d: %w", i+1, err)
		}
	}
	return st, nil
}

func parseSession(cols columns, f []string) (Session, error) {
	if cols == nil {
		return Session{}, fmt.Errorf("%w: CLIENT_LIST row before its HEADER", ErrMalformed)
	}
	if _, ok := cols["Client ID"]; !ok {
		return Session{}, fmt.Errorf("%w: CLIENT_LIST has no Client ID column", ErrMalformed)
	}
	s := Session{
		CommonName:     cols.get(f, "Common Name"),
		RealAddress:    cols.get(f, "Real Address"),
		VirtualAddress: cols.get(f, "Virtual Address"),
		VirtualIPv6:    cols.get(f, "Virtual IPv6 Address"),
		Username:       cols.get(f, "Username"),
		Cipher:         cols.get(f, "Data Channel Cipher"),
	}
	s.RealAddr = parseAddrPort(s.RealAddress)
	if s.Username == "UNDEF" {
		s.Username = ""
	}
	var err [6]error
	s.BytesReceived, err[0] = cols.uint(f, "Bytes Received")
	s.BytesSent, err[1] = cols.uint(f, "Bytes Sent")
	s.ConnectedSince, err[2] = cols.time(f, "Connected Since (time_t)")
	s.ClientID, err[3] = cols.uint(f, "Client ID")
	s.PeerID, err[4] = cols.uint(f, "Peer ID")
	if cols.get(f, "Client ID") == "" {
		err[5] = fmt.Errorf("%w: CLIENT_LIST row without a Client ID", ErrMalformed)
	}
	for _, e := range err {
		if e != nil {
			return Session{}, e
		}
	}
	return s, nil
}

func parseRoute(cols columns, f []string) (Route, error) {
	if cols == nil {
		return Route{}, fmt.Errorf("%w: ROUTING_TABLE row before its HEADER", ErrMalformed)
	}
	r := Route{
		VirtualAddress: cols.get(f, "Virtual Address"),
		CommonName:     cols.get(f, "Common Name"),
		RealAddress:    cols.get(f, "Real Address"),
	}
	r.RealAddr = parseAddrPort(r.RealAddress)
	var err error
	r.LastRef, err = cols.time(f, "Last Ref (time_t)")
	return r, err
}

// parseAddrPort reads "1.2.3.4:5", "[2001:db8::1]:5" or OpenVPN's bare
// "2001:db8::1:5"; anything else gives the zero AddrPort.
func parseAddrPort(s string) netip.AddrPort {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}
	}
	a, err1 := netip.ParseAddr(s[:i])
	p, err2 := strconv.ParseUint(s[i+1:], 10, 16)
	if err1 != nil || err2 != nil || a.Zone() != "" {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p))
}
