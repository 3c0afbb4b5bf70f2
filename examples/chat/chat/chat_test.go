package chat_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siohost/siohost/internal/nodetest"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/examples/chat/chat"
	"github.com/siohost/siohost/hostnative"
)

// newChat serves the chat as cmd/siohost and examples/chat do.
func newChat(t *testing.T, clientJS string) *httptest.Server {
	t.Helper()
	srv := hostnative.NewServer(hostnative.ServerOptions{ClientFiles: chat.ClientFiles(clientJS)})
	chat.Register(srv)
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	chat.Mount(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return ts
}

// TestChatNodeClient drives the chat with the official socket.io-client 4:
// rooms, typing, a message and an image relayed to the room, acks.
func TestChatNodeClient(t *testing.T) {
	requireNode(t)
	for _, transports := range []string{"websocket", "polling", "polling,websocket"} {
		t.Run(transports, func(t *testing.T) {
			ts := newChat(t, filepath.Join(interopDir, "node_modules", "sio-client-v4", "dist", "socket.io.min.js"))
			lines := runNode(t, "chat_client.js", ts.URL, transports)
			byKey := func(key, value string) map[string]any {
				t.Helper()
				for _, l := range lines {
					if v, ok := l[key]; ok && (value == "" || v == value) {
						return l
					}
				}
				t.Fatalf("no %s=%q in %v", key, value, lines)
				return nil
			}
			for _, l := range lines {
				require.NotContains(t, l, "error", "%v", lines)
			}

			welcome := byKey("welcome", "")["welcome"].(map[string]any)
			require.Equal(t, "alice", welcome["nick"])
			require.Equal(t, "go", welcome["room"])
			require.EqualValues(t, chat.MaxImageBytes, welcome["maxImageBytes"])

			presence := byKey("presence", "")["presence"].(map[string]any)
			require.Equal(t, "go", presence["room"])
			require.Equal(t, []any{"alice", "bob"}, presence["members"])
			require.Equal(t, "bob joined", presence["text"])

			typing := byKey("typing", "")["typing"].(map[string]any)
			require.Equal(t, "bob", typing["nick"])
			require.Equal(t, "go", typing["room"])
			require.Equal(t, true, typing["typing"])

			before := time.Now().Add(-time.Minute).UnixMilli()
			ack := byKey("ack", "message")["res"].(map[string]any)
			require.Greater(t, ack["time"], float64(before), "server timestamp in the ack")
			msg := byKey("message", "")["message"].(map[string]any)
			require.Equal(t, "alice", msg["nick"])
			require.Equal(t, "go", msg["room"])
			require.Equal(t, "hello bob", msg["text"])
			require.Equal(t, ack["time"], msg["time"])

			ack = byKey("ack", "image")["res"].(map[string]any)
			require.Greater(t, ack["time"], float64(before))
			img := byKey("image", "")
			meta := img["image"].(map[string]any)
			require.Equal(t, "alice", meta["nick"])
			require.Equal(t, "go", meta["room"])
			require.Equal(t, "dot.png", meta["name"])
			require.Equal(t, "image/png", meta["type"])
			require.EqualValues(t, 12, meta["size"])
			require.Equal(t, true, img["binary"], "the image arrives as binary")
			require.Equal(t, "89504e470d0a1a0a000102ff", img["data"])

			require.Equal(t, "", byKey("ack", "leave")["res"].(map[string]any)["room"])
			var gone map[string]any
			for _, l := range lines {
				if p, ok := l["presence"].(map[string]any); ok {
					gone = p
				}
			}
			require.Equal(t, []any{"alice"}, gone["members"])
			require.Equal(t, "bob left", gone["text"])
			require.Equal(t, "join a room first", byKey("ack", "message-outside")["res"].(map[string]any)["error"])

			require.Empty(t, byKey("carolSaw", "")["carolSaw"], "another room sees nothing")

			rejoin := byKey("ack", "rejoin")["res"].(map[string]any)
			require.Equal(t, "go", rejoin["room"])
			require.Equal(t, []any{"alice", "bob"}, rejoin["members"])
			closed := byKey("closed", "")["closed"].(map[string]any)
			require.Equal(t, []any{"alice"}, closed["members"])
			require.Equal(t, "bob left", closed["text"])
		})
	}
}

func TestPageAndClientJS(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "socket.io.min.js")
	require.NoError(t, os.WriteFile(js, []byte("var io;"), 0o644))
	require.NoError(t, os.WriteFile(js+".map", []byte("{}"), 0o644))
	ts := newChat(t, js)

	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	res, body := get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	require.Contains(t, body, `<script src="/socket.io/socket.io.min.js">`)

	res, body = get(chat.ClientJSPath)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Type"), "javascript")
	require.Equal(t, "var io;", body)
	res, body = get(chat.ClientJSPath + ".map")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "{}", body)

	res, body = get("/socket.io/?EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, strings.HasPrefix(body, `0{"sid":`), body)

	res, _ = get("/nothing")
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	missing := newChat(t, filepath.Join(t.TempDir(), "socket.io.min.js"))
	res, err := http.Get(missing.URL + chat.ClientJSPath)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, string(b), "ClientFiles")
}

// Node peers are run through internal/nodetest.
var interopDir = nodetest.Dir()

func requireNode(t *testing.T) { t.Helper(); nodetest.Require(t) }

func runNode(t *testing.T, script string, args ...string) []map[string]any {
	t.Helper()
	return nodetest.Run(t, script, args...)
}

type lockedBuffer = nodetest.Buffer
