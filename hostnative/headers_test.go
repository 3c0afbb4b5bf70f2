package hostnative

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The headers hooks serve a sticky-session cookie: set once in the
// handshake's answer, then sent back by the official engine.io-client 6
// (withCredentials) on every request, the WebSocket upgrade included.
func TestEngineHeadersHooksNode(t *testing.T) {
	requireNode(t)
	ee, srv := newEchoEngine(t, EngineOptions{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second})
	var mu sync.Mutex
	var initial int
	var later []string // "METHOD transport cookie" of the answers after the handshake
	ee.OnInitialHeaders(func(h http.Header, r *http.Request) {
		mu.Lock()
		initial++
		mu.Unlock()
		h.Add("Set-Cookie", "sticky=node-1; Path=/")
	})
	ee.OnHeaders(func(h http.Header, r *http.Request) {
		h.Set("X-Served-By", "node-1")
		if !r.URL.Query().Has("sid") {
			return
		}
		c, _ := r.Cookie("sticky")
		v := "none"
		if c != nil {
			v = c.Value
		}
		mu.Lock()
		later = append(later, r.Method+" "+r.URL.Query().Get("transport")+" "+v)
		mu.Unlock()
	})
	t.Setenv("EIO_CREDENTIALS", "1")
	lines := runNode(t, "eio_client.js", "6", srv.URL, "polling,websocket", "true", "0")
	require.Equal(t, "websocket", lines[3]["upgrade"], "%v", lines)
	ee.waitClosed(t)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, initial)
	assert.Contains(t, later, "GET websocket node-1", "the upgrade carries the cookie")
	assert.Contains(t, later, "POST polling node-1")
	for _, l := range later {
		assert.Contains(t, l, " node-1", "every request after the handshake carries the cookie: %v", later)
	}
}

// What the hooks set reaches the wire: polling answers (handshake, GET,
// POST), a WebSocket opened directly (initial) and an upgrade (not
// initial); error answers are left alone, and a panicking hook is logged.
func TestEngineHeadersHooks(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, Cookie: &http.Cookie{Name: "io"}}, true) // echo: the GET below has an answer
	env.e.OnInitialHeaders(func(h http.Header, r *http.Request) {
		assert.NotEmpty(t, h.Values("Set-Cookie"), "the session cookie comes first")
		h.Set("X-Initial", "yes")
	})
	env.e.OnHeaders(func(h http.Header, r *http.Request) {
		h.Set("X-Every", r.Method)
		if r.URL.Query().Get("panic") != "" {
			panic("a headers hook panics")
		}
	})
	r := env.do("GET", "EIO=4&transport=polling", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "yes", r.header.Get("X-Initial"))
	assert.Equal(t, "GET", r.header.Get("X-Every"))
	sid := ehParseOpen(t, string(r.body)).SID

	r = env.do("POST", "EIO=4&transport=polling&sid="+sid, []byte("4hi"), nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.header.Get("X-Initial"))
	assert.Empty(t, r.header.Values("Set-Cookie"))
	assert.Equal(t, "POST", r.header.Get("X-Every"))

	r = env.do("GET", "EIO=4&transport=polling&panic=1&sid="+sid, nil, nil)
	require.Equal(t, http.StatusOK, r.status, "a panicking hook costs the answer nothing")

	r = env.do("GET", "EIO=4&transport=polling&sid=unknown", nil, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Empty(t, r.header.Get("X-Every"), "errors are answered as they are")

	// WebSocket: opened directly (initial), then an upgrade of the
	// polling session (not initial).
	wsURL := "ws" + strings.TrimPrefix(env.url, "http")
	for _, tc := range []struct {
		query   string
		initial bool
	}{
		{"EIO=4&transport=websocket", true},
		{"EIO=4&transport=websocket&sid=" + sid, false},
	} {
		got := http.Header{}
		d := ws.Dialer{OnHeader: func(key, value []byte) error {
			got.Add(string(key), string(value))
			return nil
		}}
		conn, _, _, err := d.Dial(context.Background(), wsURL+"?"+tc.query)
		require.NoError(t, err)
		_ = conn.Close()
		assert.Equal(t, "GET", got.Get("X-Every"), tc.query)
		if tc.initial {
			assert.Equal(t, "yes", got.Get("X-Initial"), tc.query)
			assert.Contains(t, got.Get("Set-Cookie"), "io=", tc.query)
		} else {
			assert.Empty(t, got.Get("X-Initial"), tc.query)
			assert.Empty(t, got.Get("Set-Cookie"), tc.query)
		}
	}
}
