package selftest

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Log lines that tell the server answered: the first packet of the
// handshake came back (UDP and TCP), or a TCP connection was made.
var answered = []string{"TLS: Initial packet from", "TCP connection established with"}

// Log lines that tell the server refused the client once it answered.
var refusals = []string{"AUTH_FAILED", "alert", "VERIFY ERROR", "TLS Error", "TLS handshake failed",
	"Connection reset", "SIGUSR1[soft,tls-error]", "connection-reset"}

// Log lines of a client that cannot run at all.
var failures = []string{"Options error", "Cannot load", "Error opening configuration file"}

var stampRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? `)
})

// classify reads a client's log so far. ok is false while the attempt is
// undecided and final is false; once final (the client ended or the time
// is up), it always decides.
func classify(log string, final bool) (o Outcome, ok bool) {
	lines := strings.Split(log, "\n")
	if l := find(lines, ready); l != "" {
		return Outcome{Connected, l}, true
	}
	if l := find(lines, "AUTH_FAILED"); l != "" {
		return Outcome{Refused, l}, true
	}
	if l := find(lines, failures...); l != "" {
		return Outcome{Failed, l}, true
	}
	if find(lines, answered...) != "" {
		if l := find(lines, refusals...); l != "" {
			return Outcome{Refused, l}, true
		}
		if final {
			return Outcome{Refused, "the server answered but the handshake did not complete"}, true
		}
		return Outcome{}, false
	}
	if !final {
		return Outcome{}, false
	}
	if l := find(lines, "Connection refused", "Network is unreachable", "RESOLVE:", "Cannot resolve"); l != "" {
		return Outcome{NoAnswer, l}, true
	}
	return Outcome{NoAnswer, errNoLog.Error()}, true
}

// find returns the first line holding any of subs, without its time
// stamp, cut to 200 bytes.
func find(lines []string, subs ...string) string {
	for _, l := range lines {
		for _, s := range subs {
			if strings.Contains(l, s) {
				l = strings.TrimSpace(stampRE().ReplaceAllString(l, ""))
				if len(l) > 200 {
					l = l[:200]
				}
				return l
			}
		}
	}
	return ""
}

// withRemote replaces the profile's remote lines by one for r (at the
// place of the first), or returns the profile unchanged when r is not
// set. Lines inside inline blocks (<ca>...</ca>) are left alone.
func withRemote(profile []byte, r Remote) []byte {
	if r.Host == "" {
		return profile
	}
	line := "remote " + r.Host + " " + strconv.Itoa(r.Port) + " " + r.Proto
	if ip := net.ParseIP(r.Host); ip != nil {
		line = "remote " + ip.String() + " " + strconv.Itoa(r.Port) + " " + r.Proto
	}
	var out []string
	placed, inline := false, false
	for _, l := range strings.Split(string(profile), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case inline:
			inline = !strings.HasPrefix(t, "</")
		case strings.HasPrefix(t, "<") && !strings.HasPrefix(t, "</"):
			inline = true
		case strings.HasPrefix(t, "remote ") || t == "remote":
			if !placed {
				out, placed = append(out, line), true
			}
			continue
		}
		out = append(out, l)
	}
	if !placed {
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}
