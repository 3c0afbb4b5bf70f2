package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/hostnative"
)

// connectServer is a Socket.IO server for the connect command: "add" acks
// the sum, "kick" disconnects, each socket is greeted with "hello" (text)
// and "blob" (binary), and an auth token "bad" is refused.
func connectServer(t *testing.T) string {
	t.Helper()
	io := hostnative.NewServer(hostnative.ServerOptions{})
	io.Use(func(s *hostnative.Socket) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token == "bad" {
			return &hostnative.ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	io.OnConnection(func(s *hostnative.Socket) {
		s.On("add", func(ev *hostnative.Event) {
			var a, b int
			_ = ev.Arg(0, &a)
			_ = ev.Arg(1, &b)
			_ = ev.Ack(a + b)
		})
		s.On("kick", func(*hostnative.Event) { s.Disconnect(false) })
		_ = s.Emit("hello", "world", 1)
		_ = s.Emit("blob", []byte{1, 2, 3})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(io.Close)
	return srv.URL
}

// runLines runs the connect command and returns its exit code, its JSON
// lines and its stderr.
func runLines(t *testing.T, args ...string) (int, []map[string]any, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runConnect(args, &out, &errOut)
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	return code, lines, errOut.String()
}

// find returns the first line with key.
func find(lines []map[string]any, key string) map[string]any {
	for _, l := range lines {
		if _, ok := l[key]; ok {
			return l
		}
	}
	return nil
}

func TestConnectCommand(t *testing.T) {
	t.Parallel()
	url := connectServer(t)

	t.Run("emit-ack-events", func(t *testing.T) {
		t.Parallel()
		code, lines, stderr := runLines(t, url, "--emit", "add", "[2,3]", "--ack", "--count", "2", "--timeout", "5s")
		require.Equal(t, 0, code, stderr)
		connect := find(lines, "connect")["connect"].(map[string]any)
		assert.NotEmpty(t, connect["sid"])
		assert.Contains(t, []any{"polling", "websocket"}, connect["transport"], "polling, or websocket once upgraded")
		assert.Equal(t, []any{float64(5)}, find(lines, "ack")["ack"])
		var events []any
		for _, l := range lines {
			if l["event"] != nil {
				events = append(events, []any{l["event"], l["args"]})
			}
		}
		assert.Equal(t, []any{
			[]any{"hello", []any{"world", float64(1)}},
			[]any{"blob", []any{map[string]any{"_binary": "AQID"}}},
		}, events)
	})
	t.Run("core-wasm", func(t *testing.T) {
		t.Parallel()
		if testing.Short() {
			t.Skip("builds the WebAssembly module")
		}
		code, lines, stderr := runLines(t, url, "--core", "wasm", "--emit", "add", "[2,3]", "--ack", "--count", "2")
		require.Equal(t, 0, code, stderr)
		assert.NotNil(t, find(lines, "connect"))
		assert.Equal(t, []any{float64(5)}, find(lines, "ack")["ack"])
	})
	t.Run("websocket-flags-after-url", func(t *testing.T) {
		t.Parallel()
		code, lines, stderr := runLines(t, "--transports", "websocket", url, "--count", "1")
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, "websocket", find(lines, "connect")["connect"].(map[string]any)["transport"])
	})
	t.Run("wrong-path", func(t *testing.T) {
		t.Parallel()
		code, lines, stderr := runLines(t, url, "--path", "/ws")
		assert.Equal(t, 1, code)
		ce := find(lines, "connect_error")["connect_error"].(map[string]any)
		assert.Equal(t, "xhr poll error", ce["message"])
		assert.Equal(t, "404", ce["description"])
		assert.Contains(t, ce["hint"], "check the path")
		assert.Contains(t, stderr, "404")
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		code, lines, _ := runLines(t, url, "--auth", `{"token":"bad"}`)
		assert.Equal(t, 1, code)
		ce := find(lines, "connect_error")["connect_error"].(map[string]any)
		assert.Equal(t, "not authorized", ce["message"])
		assert.Equal(t, map[string]any{"code": float64(401)}, ce["data"])
	})
	t.Run("server-disconnect", func(t *testing.T) {
		t.Parallel()
		code, lines, stderr := runLines(t, url, "--emit", "kick", "[]", "--count", "5")
		assert.Equal(t, 1, code)
		assert.Equal(t, "io server disconnect", find(lines, "disconnect")["disconnect"].(map[string]any)["reason"])
		assert.Contains(t, stderr, "disconnected (io server disconnect)")
	})
	t.Run("no-answer", func(t *testing.T) {
		t.Parallel()
		// A server that takes the request and never answers, as Node's
		// HTTP server does at a path nothing handles.
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		t.Cleanup(srv.Close)
		code, lines, stderr := runLines(t, srv.URL, "--timeout", "300ms")
		assert.Equal(t, 1, code)
		ce := find(lines, "connect_error")["connect_error"].(map[string]any)
		assert.Equal(t, "timeout", ce["message"])
		assert.Contains(t, ce["description"], "handshake")
		assert.Contains(t, stderr, "deadline exceeded")
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runLines(t, url, "--emit", "x", "not json")
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, "JSON array")
		code, _, _ = runLines(t)
		assert.Equal(t, 2, code)
	})
}
