package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/agentwire"
	"github.com/vpnkeys/vpnkeys/internal/authority"
)

// agentStateServer serves the long-poll and report handlers without the
// agent listener's certificate check (agentOnly, tested with the join).
// timeout, when not zero, is the listener's read and write timeout.
func agentStateServer(t *testing.T, timeout time.Duration) (*env, *httptest.Server) {
	t.Helper()
	e := newEnv(t, nil)
	s := New(Options{Authority: e.a})
	mux := http.NewServeMux()
	mux.Handle("GET "+agentwire.PathServers+"{server}/state", s.handle(s.agentState))
	mux.Handle("POST "+agentwire.PathServers+"{server}/report", s.handle(s.agentReport))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.WriteTimeout, srv.Config.ReadTimeout = timeout, timeout
	srv.Start()
	t.Cleanup(srv.Close)
	return e, srv
}

func getState(t *testing.T, srv *httptest.Server, server, query string) (int, agentwire.State, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + agentwire.StatePath(server) + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st agentwire.State
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("state JSON: %v\n%s", err, b)
		}
	}
	return resp.StatusCode, st, string(b)
}

func TestAgentStateLongPoll(t *testing.T) {
	// Timeouts shorter than a long-poll: the handler extends its deadline.
	e, srv := agentStateServer(t, time.Second)
	ctx := context.Background()
	if _, err := e.a.AgentState(ctx, "dc1"); err != nil { // issues dc1's certificate: a change
		t.Fatal(err)
	}
	code, st, body := getState(t, srv, "dc1", "")
	if code != http.StatusOK || st.Server != "dc1" || st.Version == 0 || st.Hash == "" {
		t.Fatalf("ok/first: got %d %s", code, body)
	}
	now := fmt.Sprint(st.Version)

	for _, tc := range []struct{ name, server, query, want string }{
		{"fail/since not a number", "dc1", "?since=x", "since must be"},
		{"fail/since negative", "dc1", "?since=-1", "since must be"},
		{"fail/wait too long", "dc1", "?since=1&wait=121", "wait must be seconds from 0 to 120"},
		{"fail/wait not a number", "dc1", "?wait=1s", "wait must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := getState(t, srv, tc.server, tc.query)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) || strings.Count(strings.TrimSpace(body), "\n") > 5 {
				t.Fatalf("got %d %s, want 400 saying %q", code, body, tc.want)
			}
		})
	}
	t.Run("fail/unknown server", func(t *testing.T) {
		if code, _, body := getState(t, srv, "dc9", "?since=0"); code != http.StatusNotFound {
			t.Fatalf("got %d %s, want 404", code, body)
		}
	})
	t.Run("ok/behind", func(t *testing.T) {
		if code, got, body := getState(t, srv, "dc1", "?since=1&wait=60"); code != http.StatusOK || got.Version != st.Version {
			t.Fatalf("got %d %s, want the state at %d at once", code, body, st.Version)
		}
	})
	t.Run("ok/nothing newer", func(t *testing.T) {
		if code, _, body := getState(t, srv, "dc1", "?since="+now+"&wait=2"); code != http.StatusNotModified {
			t.Fatalf("got %d %s, want 304", code, body)
		}
		if code, _, body := getState(t, srv, "dc1", "?since="+now); code != http.StatusNotModified {
			t.Fatalf("no wait: got %d %s, want 304", code, body)
		}
	})
	t.Run("ok/woken by a change", func(t *testing.T) {
		type reply struct {
			code int
			st   agentwire.State
		}
		got := make(chan reply, 1)
		go func() {
			code, st, _ := getState(t, srv, "dc1", "?since="+now+"&wait=120")
			got <- reply{code, st}
		}()
		if _, err := e.a.AddServer(ctx, authority.ServerRequest{Name: "dc2", Remote: "127.0.0.1:11943"}); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.code != http.StatusOK || r.st.Version <= st.Version || r.st.Hash != st.Hash {
			t.Fatalf("got %d version %d hash %s, want 200 above %d with dc1's unchanged hash %s", r.code, r.st.Version, r.st.Hash, st.Version, st.Hash)
		}
	})
}

func TestAgentReportBadInput(t *testing.T) {
	_, srv := agentStateServer(t, 0)
	for _, tc := range []struct{ name, ctype, body, want string }{
		{"fail/not JSON", "application/json", "{", "invalid JSON"},
		{"fail/wrong type", "application/json", `{"version":"x"}`, "invalid JSON"},
		{"fail/content type", "text/plain", `{}`, "Content-Type"},
		{"fail/too big", "application/json", `{"error":"` + strings.Repeat("x", maxReport) + `"}`, "body over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+agentwire.ReportPath("dc1"), tc.ctype, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tc.want) {
				t.Fatalf("got %d %s, want 400 saying %q", resp.StatusCode, b, tc.want)
			}
		})
	}
}
