package hostnative

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the native Engine over real HTTP with net/http clients
// and raw WebSockets (github.com/gobwas/ws). They use short heartbeats but
// only assert outcomes: status codes, bodies, frames and close reasons.

// ehWait bounds every wait of these tests; it is a safety net, not a timing
// assertion.
const ehWait = 10 * time.Second

// ehClose is one OnClose call seen by an ehEnv.
type ehClose struct{ sid, reason, desc string }

// ehMsg is one message an ehEnv's sessions received.
type ehMsg struct {
	sid    string
	data   string
	binary bool
}

// ehEnv is an Engine behind an httptest server, recording what its
// sessions do.
type ehEnv struct {
	t      *testing.T
	e      *Engine
	srv    *httptest.Server
	client *http.Client
	url    string // the engine's URL, with a trailing slash

	mu    sync.Mutex
	conns map[string]*EngineConn
	opens int

	closes   chan ehClose
	msgs     chan ehMsg
	upgrades chan string // sid, then the transport it reports
	cerrs    chan *ConnectionError
	echo     bool
	// onOpen, when set before the first request, runs at the end of the
	// connection handler.
	onOpen func(*EngineConn)
}

func newEhEnv(t *testing.T, opts EngineOptions, echo bool) *ehEnv {
	t.Helper()
	opts.Core = testCore(opts.Core)
	env := &ehEnv{
		t:        t,
		e:        NewEngine(opts),
		conns:    make(map[string]*EngineConn),
		closes:   make(chan ehClose, 4096),
		msgs:     make(chan ehMsg, 4096),
		upgrades: make(chan string, 4096),
		cerrs:    make(chan *ConnectionError, 64),
		echo:     echo,
	}
	env.e.OnConnection(func(c *EngineConn) {
		env.mu.Lock()
		env.conns[c.ID()] = c
		env.opens++
		env.mu.Unlock()
		c.OnMessage(func(data []byte, binary bool) {
			env.msgs <- ehMsg{sid: c.ID(), data: string(data), binary: binary}
			if env.echo {
				_ = c.Send(data, binary)
			}
		})
		c.OnUpgrade(func(transport string) {
			env.upgrades <- c.ID() + " " + transport + " " + c.Transport()
		})
		c.OnClose(func(reason, desc string) {
			env.closes <- ehClose{sid: c.ID(), reason: reason, desc: desc}
		})
		if env.onOpen != nil {
			env.onOpen(c)
		}
	})
	env.e.OnConnectionError(func(ce *ConnectionError) {
		select {
		case env.cerrs <- ce:
		default:
		}
	})
	env.srv = httptest.NewServer(env.e)
	env.client = &http.Client{Transport: &http.Transport{}}
	env.url = env.srv.URL + env.e.Path()
	t.Cleanup(func() {
		env.client.CloseIdleConnections()
		// httptest.Server.Close waits for every handler: report one that
		// never returns rather than hang.
		closed := make(chan struct{})
		go func() {
			env.srv.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(ehWait):
			t.Error("the server did not shut down: a handler never returned")
		}
	})
	return env
}

// sub points env's assertions at subtest t until the subtest ends.
// Subtests using it must not run in parallel.
func (env *ehEnv) sub(t *testing.T) {
	parent := env.t
	env.t = t
	t.Cleanup(func() { env.t = parent })
}

// conn returns the EngineConn of session sid.
func (env *ehEnv) conn(sid string) *EngineConn {
	env.t.Helper()
	var c *EngineConn
	require.Eventually(env.t, func() bool {
		env.mu.Lock()
		defer env.mu.Unlock()
		c = env.conns[sid]
		return c != nil
	}, ehWait, time.Millisecond, "no connection %s", sid)
	return c
}

// waitClose returns the next OnClose call.
func (env *ehEnv) waitClose() ehClose {
	env.t.Helper()
	select {
	case c := <-env.closes:
		return c
	case <-time.After(ehWait):
		env.t.Fatal("no session closed")
	}
	return ehClose{}
}

// waitMsg returns the next message received by a session.
func (env *ehEnv) waitMsg() ehMsg {
	env.t.Helper()
	select {
	case m := <-env.msgs:
		return m
	case <-time.After(ehWait):
		env.t.Fatal("no message received")
	}
	return ehMsg{}
}

// waitConnError returns the next ConnectionError the hook saw.
func (env *ehEnv) waitConnError() *ConnectionError {
	env.t.Helper()
	select {
	case ce := <-env.cerrs:
		return ce
	case <-time.After(ehWait):
		env.t.Fatal("the connection error hook was not called")
	}
	return nil
}

// noConnError checks that the hook has not been called.
func (env *ehEnv) noConnError() {
	env.t.Helper()
	select {
	case ce := <-env.cerrs:
		env.t.Fatalf("unexpected connection error: %d %s %v", ce.Code, ce.Message, ce.Context)
	default:
	}
}

// parked returns the number of polling GETs the engine holds.
func (env *ehEnv) parked() int {
	n := 0
	for _, sh := range env.e.shards {
		sh.mu.Lock()
		n += len(sh.waiters)
		sh.mu.Unlock()
	}
	return n
}

// waitParked waits until the engine holds n polling GETs.
func (env *ehEnv) waitParked(n int) {
	env.t.Helper()
	require.Eventually(env.t, func() bool { return env.parked() == n }, ehWait, time.Millisecond,
		"want %d parked GETs", n)
}

// ehResp is a response read in full.
type ehResp struct {
	status int
	header http.Header
	body   []byte
}

func (r ehResp) String() string { return string(r.body) }

// do sends one request to the engine: query is appended to its URL.
func (env *ehEnv) do(method, query string, body []byte, header http.Header) ehResp {
	env.t.Helper()
	r, err := env.try(method, query, body, header)
	require.NoError(env.t, err)
	return r
}

// try is do without the assertion, for use off the test goroutine.
func (env *ehEnv) try(method, query string, body []byte, header http.Header) (ehResp, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, env.url+"?"+query, rd)
	if err != nil {
		return ehResp{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := env.client.Do(req)
	if err != nil {
		return ehResp{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return ehResp{}, err
	}
	return ehResp{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// goDo sends a request from another goroutine; the channel yields its
// response.
func (env *ehEnv) goDo(method, query string, body []byte) <-chan ehResp {
	ch := make(chan ehResp, 1)
	go func() {
		r, err := env.try(method, query, body, nil)
		if err != nil {
			r = ehResp{status: -1, body: []byte(err.Error())}
		}
		ch <- r
	}()
	return ch
}

func (env *ehEnv) recv(ch <-chan ehResp) ehResp {
	env.t.Helper()
	select {
	case r := <-ch:
		require.NotEqual(env.t, -1, r.status, "request failed: %s", r.body)
		return r
	case <-time.After(ehWait):
		env.t.Fatal("no response")
	}
	return ehResp{}
}

// ehOpen is the JSON of an open packet.
type ehOpen struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func ehParseOpen(t *testing.T, packet string) ehOpen {
	t.Helper()
	require.True(t, strings.HasPrefix(packet, "0{"), "not an open packet: %q", packet)
	var o ehOpen
	require.NoError(t, json.Unmarshal([]byte(packet[1:]), &o))
	require.NotEmpty(t, o.SID)
	return o
}

// handshake opens a v4 polling session and returns its id.
func (env *ehEnv) handshake() string {
	env.t.Helper()
	r := env.do("GET", "EIO=4&transport=polling", nil, nil)
	require.Equal(env.t, 200, r.status, "handshake: %s", r)
	return ehParseOpen(env.t, string(r.body)).SID
}

// handshakeV3 opens a v3 polling session and returns its id.
func (env *ehEnv) handshakeV3(extra string) string {
	env.t.Helper()
	r := env.do("GET", "EIO=3&transport=polling"+extra, nil, nil)
	require.Equal(env.t, 200, r.status, "handshake: %s", r)
	body := string(r.body)
	i := strings.IndexByte(body, ':')
	require.Positive(env.t, i, "v3 handshake %q", body)
	return ehParseOpen(env.t, body[i+1:]).SID
}

// requireEIOError checks a JSON error answer.
func requireEIOError(t *testing.T, r ehResp, status, code int, message string) {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	want, err := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	require.NoError(t, err)
	assert.Equal(t, string(want), string(r.body))
}

// TestEngineHTTPErrorCodes covers every Engine.IO error code through real
// HTTP, the exact bodies, and what the connection error hook is told.
func TestEngineHTTPErrorCodes(t *testing.T) {
	env := newEhEnv(t, EngineOptions{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("go away: " + r.URL.Query().Get("deny"))
			}
			return nil
		},
	}, false)

	cases := []struct {
		name    string
		method  string
		query   string
		status  int
		code    int
		message string
		context map[string]any
	}{
		{"unknown transport", "GET", "EIO=4&transport=abc", 400, 0, "Transport unknown",
			map[string]any{"transport": "abc"}},
		{"missing transport", "GET", "EIO=4", 400, 0, "Transport unknown", nil},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown",
			map[string]any{"sid": "nope"}},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown",
			map[string]any{"sid": "nope"}},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, 2, "Bad handshake method",
			map[string]any{"method": "POST"}},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", 400, 2, "Bad handshake method",
			map[string]any{"method": "PUT"}},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, 3, "Bad request",
			map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}},
		{"forbidden", "GET", "EIO=4&transport=polling&deny=now", 403, 4, "go away: now",
			map[string]any{"message": "go away: now"}},
		{"missing EIO", "GET", "transport=polling", 400, 5, "Unsupported protocol version", nil},
		{"garbage EIO", "GET", "EIO=abc&transport=polling", 400, 5, "Unsupported protocol version", nil},
		{"EIO 5", "GET", "EIO=5&transport=polling", 400, 5, "Unsupported protocol version", nil},
		{"EIO 3 disabled", "GET", "EIO=3&transport=polling", 400, 5, "Unsupported protocol version",
			map[string]any{"protocol": float64(3)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env.sub(t)
			var body []byte
			if tc.method == "POST" || tc.method == "PUT" {
				body = []byte("4hello")
			}
			r := env.do(tc.method, tc.query, body, nil)
			requireEIOError(t, r, tc.status, tc.code, tc.message)

			ce := env.waitConnError()
			assert.Equal(t, tc.code, ce.Code)
			if tc.code != 4 {
				assert.Equal(t, tc.message, ce.Message)
			}
			if tc.context != nil {
				assert.Equal(t, tc.context, ce.Context)
			}
			require.NotNil(t, ce.Request)
			assert.Equal(t, tc.method, ce.Request.Method)
			assert.Equal(t, tc.query, ce.Request.URL.RawQuery)
			env.noConnError()
		})
	}
	assert.Zero(t, env.e.Len(), "no refused request may leave a session")
}

// TestEngineHTTPEIO3 checks that EIO=3 is accepted only with AllowEIO3, and
// that garbage versions are refused even then.
func TestEngineHTTPEIO3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: time.Minute}, false)
	r := env.do("GET", "EIO=3&transport=polling", nil, nil)
	require.Equal(t, 200, r.status, "%s", r)
	body := string(r.body)
	i := strings.IndexByte(body, ':')
	require.Positive(t, i)
	assert.Equal(t, body[:i], strconv.Itoa(len(body)-i-1), "v3 length prefix of %q", body)
	o := ehParseOpen(t, body[i+1:])
	assert.Equal(t, []string{"websocket"}, o.Upgrades)
	assert.Equal(t, 3, env.conn(o.SID).Protocol())

	for _, q := range []string{"transport=polling", "EIO=abc&transport=polling", "EIO=2&transport=polling"} {
		requireEIOError(t, env.do("GET", q, nil, nil), 400, 5, "Unsupported protocol version")
		ce := env.waitConnError()
		assert.Equal(t, 5, ce.Code, q)
	}
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineHTTPHandshake checks the handshake answer and the headers of
// polling responses.
func TestEngineHTTPHandshake(t *testing.T) {
	env := newEhEnv(t, EngineOptions{
		PingInterval:      time.Minute,
		PingTimeout:       30 * time.Second,
		MaxHTTPBufferSize: 12345,
	}, true)
	r := env.do("GET", "EIO=4&transport=polling&t=abc", nil, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "text/plain; charset=UTF-8", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body[1:], &keys))
	assert.Len(t, keys, 5, "exactly sid, upgrades, pingInterval, pingTimeout, maxPayload: %s", r)
	o := ehParseOpen(t, string(r.body))
	assert.Equal(t, ehOpen{SID: o.SID, Upgrades: []string{"websocket"}, PingInterval: 60000, PingTimeout: 30000, MaxPayload: 12345}, o)
	assert.Len(t, o.SID, 20)
	assert.True(t, strings.HasPrefix(string(r.body), `0{"sid":"`+o.SID+`","upgrades":["websocket"],"pingInterval":60000,"pingTimeout":30000,"maxPayload":12345}`), "%s", r)
	c := env.conn(o.SID)
	assert.Equal(t, "polling", c.Transport())
	assert.Equal(t, 4, c.Protocol())
	assert.Equal(t, "EIO=4&transport=polling&t=abc", c.Request().URL.RawQuery)

	// POST: text/html "ok".
	p := env.do("POST", "EIO=4&transport=polling&sid="+o.SID, []byte("4hello\x1e4wörld\x1ebAQIDBA=="), nil)
	require.Equal(t, 200, p.status)
	assert.Equal(t, "text/html", p.header.Get("Content-Type"))
	assert.Equal(t, "no-store", p.header.Get("Cache-Control"))
	assert.Equal(t, "ok", p.String())
	assert.Equal(t, ehMsg{o.SID, "hello", false}, env.waitMsg())
	assert.Equal(t, ehMsg{o.SID, "wörld", false}, env.waitMsg())
	assert.Equal(t, ehMsg{o.SID, "\x01\x02\x03\x04", true}, env.waitMsg())

	// GET: the echoes, in one payload.
	g := env.do("GET", "EIO=4&transport=polling&sid="+o.SID, nil, nil)
	require.Equal(t, 200, g.status)
	assert.Equal(t, "text/plain; charset=UTF-8", g.header.Get("Content-Type"))
	assert.Equal(t, "no-store", g.header.Get("Cache-Control"))
	assert.Equal(t, "4hello\x1e4wörld\x1ebAQIDBA==", g.String())

	// Not found outside the path.
	resp, err := env.client.Get(env.srv.URL + "/other/?EIO=4&transport=polling")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineHTTPOverlappingGET: the pending GET gets a close packet, the
// second one 400, and the session is gone.
func TestEngineHTTPOverlappingGET(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	first := env.goDo("GET", q, nil)
	env.waitParked(1)

	second := env.do("GET", q, nil, nil)
	assert.Equal(t, 400, second.status)
	assert.Empty(t, second.body)

	r := env.recv(first)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "1", r.String())

	cl := env.waitClose()
	assert.Equal(t, ehClose{sid, "transport error", "overlap from client"}, cl)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
	assert.Zero(t, env.e.Len())
	assert.Zero(t, env.parked())
}

// TestEngineHTTPBinaryPOSTv4: a v4 POST sent as application/octet-stream is
// refused and closes the session.
func TestEngineHTTPBinaryPOSTv4(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	r := env.do("POST", q, []byte{1, 2, 3}, http.Header{"Content-Type": {"application/octet-stream"}})
	assert.Equal(t, 400, r.status)
	assert.Empty(t, r.body)
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineHTTPBodyTooLarge: a POST over MaxHTTPBufferSize gets 413 and
// closes the session with "transport error".
func TestEngineHTTPBodyTooLarge(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, MaxHTTPBufferSize: 100}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid

	// Exactly the limit is fine.
	ok := env.do("POST", q, []byte("4"+strings.Repeat("x", 99)), nil)
	require.Equal(t, 200, ok.status)
	assert.Equal(t, strings.Repeat("x", 99), env.waitMsg().data)

	r := env.do("POST", q, []byte("4"+strings.Repeat("x", 100)), nil)
	assert.Equal(t, 413, r.status)
	assert.Empty(t, r.body)
	cl := env.waitClose()
	assert.Equal(t, ehClose{sid, "transport error", "payload too large"}, cl)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
	assert.Zero(t, env.e.Len())
}

// TestEngineHTTPUnknownMethod: any method other than GET and POST with a sid
// gets 500 and closes the session.
func TestEngineHTTPUnknownMethod(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	r := env.do("PUT", q, []byte("4x"), nil)
	assert.Equal(t, 500, r.status)
	assert.Empty(t, r.body)
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineHTTPInvalidPacket: POST "abc" closes the session with a parse
// error.
func TestEngineHTTPInvalidPacket(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	env.do("POST", q, []byte("abc"), nil)
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "parse error", cl.reason)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineHTTPClientClose: a pending GET gets a noop when the client
// POSTs a close packet; the session is then gone.
func TestEngineHTTPClientClose(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	get := env.goDo("GET", q, nil)
	env.waitParked(1)
	p := env.do("POST", q, []byte("1"), nil)
	assert.Equal(t, 200, p.status)
	assert.Equal(t, "ok", p.String())
	g := env.recv(get)
	assert.Equal(t, 200, g.status)
	assert.Equal(t, "6", g.String())
	assert.Equal(t, ehClose{sid, "transport close", ""}, env.waitClose())
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
	assert.Zero(t, env.e.Len())
}

// TestEngineHTTPServerClose: EngineConn.Close answers the pending GET with a
// close packet, and Send then fails.
func TestEngineHTTPServerClose(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	get := env.goDo("GET", q, nil)
	env.waitParked(1)
	c := env.conn(sid)
	c.Close()
	g := env.recv(get)
	assert.Equal(t, 200, g.status)
	assert.Equal(t, "1", g.String())
	assert.Equal(t, ehClose{sid, "forced close", ""}, env.waitClose())
	assert.ErrorIs(t, c.Send([]byte("x"), false), ErrClosed)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineHTTPPingTimeout: a v4 polling session that never answers its
// pings is closed with "ping timeout".
func TestEngineHTTPPingTimeout(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	// The ping comes to the GET, unless a slow machine let the session
	// time out before the GET arrived.
	if g := env.do("GET", q, nil, nil); g.status == 200 {
		require.Equal(t, "2", g.String())
	} else {
		requireEIOError(t, g, 400, 1, "Session ID unknown")
	}
	assert.Equal(t, ehClose{sid, "ping timeout", ""}, env.waitClose())
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
	assert.Zero(t, env.e.Len())
}

// TestEngineHTTPHeartbeat: a polling session answering pings stays open over
// several intervals.
func TestEngineHTTPHeartbeat(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second}, true)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	for range 4 {
		g := env.do("GET", q, nil, nil)
		require.Equal(t, 200, g.status)
		require.Equal(t, "2", g.String())
		require.Equal(t, "ok", env.do("POST", q, []byte("3"), nil).String())
	}
	require.Equal(t, "ok", env.do("POST", q, []byte("4still here"), nil).String())
	g := env.do("GET", q, nil, nil)
	assert.Equal(t, "4still here", g.String())
	select {
	case cl := <-env.closes:
		t.Fatalf("session closed: %+v", cl)
	default:
	}
}

// TestEngineHTTPPollingV3 covers v3 polling: the b64 text encoding of binary,
// the binary payload framing both ways, and v3 heartbeats.
func TestEngineHTTPPollingV3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: time.Minute}, false)

	t.Run("b64", func(t *testing.T) {
		env.sub(t)
		sid := env.handshakeV3("&b64=1")
		c := env.conn(sid)
		require.NoError(t, c.Send([]byte{1, 2, 3}, true))
		require.NoError(t, c.Send([]byte("h€"), false))
		g := env.do("GET", "EIO=3&transport=polling&b64=1&sid="+sid, nil, nil)
		require.Equal(t, 200, g.status)
		assert.Equal(t, "text/plain; charset=UTF-8", g.header.Get("Content-Type"))
		assert.Equal(t, "6:b4AQID3:4h€", g.String())

		p := env.do("POST", "EIO=3&transport=polling&b64=1&sid="+sid, []byte("6:b4BAUG2:4é"), nil)
		require.Equal(t, "ok", p.String())
		assert.Equal(t, ehMsg{sid, "\x04\x05\x06", true}, env.waitMsg())
		assert.Equal(t, ehMsg{sid, "é", false}, env.waitMsg())
	})

	t.Run("binary", func(t *testing.T) {
		env.sub(t)
		sid := env.handshakeV3("")
		c := env.conn(sid)
		require.NoError(t, c.Send([]byte("hi"), false))
		require.NoError(t, c.Send([]byte{1, 2, 3}, true))
		g := env.do("GET", "EIO=3&transport=polling&sid="+sid, nil, nil)
		require.Equal(t, 200, g.status)
		assert.Equal(t, "application/octet-stream", g.header.Get("Content-Type"))
		want := []byte{0x00, 0x03, 0xFF, '4', 'h', 'i', 0x01, 0x04, 0xFF, 0x04, 0x01, 0x02, 0x03}
		assert.Equal(t, want, g.body)

		// A flush without binary uses the text framing.
		require.NoError(t, c.Send([]byte("yo"), false))
		g = env.do("GET", "EIO=3&transport=polling&sid="+sid, nil, nil)
		assert.Equal(t, "text/plain; charset=UTF-8", g.header.Get("Content-Type"))
		assert.Equal(t, "3:4yo", g.String())

		// A POST in the binary framing, with a long length.
		long := strings.Repeat("z", 12)
		body := []byte{0x00, 0x01, 0x03, 0xFF}
		body = append(body, "4"+long...)
		body = append(body, 0x01, 0x04, 0xFF, 0x04, 0x07, 0x08, 0x09)
		p := env.do("POST", "EIO=3&transport=polling&sid="+sid, body, http.Header{"Content-Type": {"application/octet-stream"}})
		require.Equal(t, 200, p.status)
		require.Equal(t, "ok", p.String())
		assert.Equal(t, ehMsg{sid, long, false}, env.waitMsg())
		assert.Equal(t, ehMsg{sid, "\x07\x08\x09", true}, env.waitMsg())
	})
}

// TestEngineHTTPHeartbeatV3: the server never pings a v3 client, answers its
// pings, and closes it when they stop.
func TestEngineHTTPHeartbeatV3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)
	sid := env.handshakeV3("&b64=1")
	q := "EIO=3&transport=polling&b64=1&sid=" + sid
	for range 5 {
		require.Equal(t, "ok", env.do("POST", q, []byte("1:2"), nil).String())
		// Only the pong is queued: the server sends no ping of its own,
		// even though pings are overdue by the v4 rules.
		g := env.do("GET", q, nil, nil)
		require.Equal(t, 200, g.status)
		require.Equal(t, "1:3", g.String())
		time.Sleep(40 * time.Millisecond)
	}
	// Stop pinging: a pending GET ends with a close packet (or, had it
	// come after the timeout, with an error).
	if g := env.do("GET", q, nil, nil); g.status == 200 {
		assert.Equal(t, "1:1", g.String())
	} else {
		requireEIOError(t, g, 400, 1, "Session ID unknown")
	}
	assert.Equal(t, ehClose{sid, "ping timeout", ""}, env.waitClose())
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineHTTPCORS covers preflights and CORS headers of polling requests.
func TestEngineHTTPCORS(t *testing.T) {
	preflight := http.Header{
		"Origin":                         {"http://a.example"},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type"},
	}
	t.Run("any origin", func(t *testing.T) {
		env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, CORS: &CORSOptions{Origins: []string{"*"}}}, false)
		r := env.do("OPTIONS", "EIO=4&transport=polling", nil, preflight)
		assert.Equal(t, 204, r.status)
		assert.Empty(t, r.body)
		assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "GET,HEAD,PUT,PATCH,POST,DELETE", r.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "content-type", r.header.Get("Access-Control-Allow-Headers"))
		assert.Empty(t, r.header.Get("Access-Control-Allow-Credentials"))
		assert.Zero(t, env.e.Len())

		h := env.do("GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"http://b.example"}})
		require.Equal(t, 200, h.status)
		assert.Equal(t, "*", h.header.Get("Access-Control-Allow-Origin"))
		// Errors carry the headers too, so the browser can read them.
		e := env.do("GET", "EIO=4&transport=abc", nil, http.Header{"Origin": {"http://b.example"}})
		requireEIOError(t, e, 400, 0, "Transport unknown")
		assert.Equal(t, "*", e.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("listed origins", func(t *testing.T) {
		env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, CORS: &CORSOptions{
			Origins: []string{"http://a.example", "http://c.example"},
			Methods: []string{"GET", "POST"},
			MaxAge:  time.Hour,
		}}, false)
		r := env.do("OPTIONS", "EIO=4&transport=polling", nil, preflight)
		assert.Equal(t, 204, r.status)
		assert.Equal(t, "http://a.example", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "GET,POST", r.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "3600", r.header.Get("Access-Control-Max-Age"))
		assert.Contains(t, r.header.Values("Vary"), "Origin")

		other := preflight.Clone()
		other.Set("Origin", "http://b.example")
		r = env.do("OPTIONS", "EIO=4&transport=polling", nil, other)
		assert.Equal(t, 204, r.status)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))

		h := env.do("GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"http://c.example"}})
		require.Equal(t, 200, h.status)
		assert.Equal(t, "http://c.example", h.header.Get("Access-Control-Allow-Origin"))
		h = env.do("GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"http://b.example"}})
		require.Equal(t, 200, h.status)
		assert.Empty(t, h.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("credentials", func(t *testing.T) {
		env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, CORS: &CORSOptions{
			Origins:     []string{"http://a.example"},
			Credentials: true,
		}}, false)
		r := env.do("OPTIONS", "EIO=4&transport=polling", nil, preflight)
		assert.Equal(t, 204, r.status)
		assert.Equal(t, "http://a.example", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
		sid := ehParseOpen(t, env.do("GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"http://a.example"}}).String()).SID
		p := env.do("POST", "EIO=4&transport=polling&sid="+sid, []byte("4x"), http.Header{"Origin": {"http://a.example"}})
		assert.Equal(t, "ok", p.String())
		assert.Equal(t, "http://a.example", p.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", p.header.Get("Access-Control-Allow-Credentials"))
	})
	t.Run("wildcard with credentials", func(t *testing.T) {
		env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, CORS: &CORSOptions{
			Origins:     []string{"*"},
			Credentials: true,
		}}, false)
		r := env.do("OPTIONS", "EIO=4&transport=polling", nil, preflight)
		assert.Equal(t, "http://a.example", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
	})
}

// TestEngineHTTPCookie: the handshake response sets the session cookie.
func TestEngineHTTPCookie(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, Cookie: &http.Cookie{
		Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}}, false)
	req, err := http.NewRequest("GET", env.url+"?EIO=4&transport=polling", nil)
	require.NoError(t, err)
	resp, err := env.client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	sid := ehParseOpen(t, string(body)).SID
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, "io", cookies[0].Name)
	assert.Equal(t, sid, cookies[0].Value)
	assert.Equal(t, "/", cookies[0].Path)
	assert.True(t, cookies[0].HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite)

	// Later requests of the session set no cookie.
	r := env.do("POST", "EIO=4&transport=polling&sid="+sid, []byte("4x"), nil)
	assert.Empty(t, r.header.Values("Set-Cookie"))
	// Nor do refusals.
	r = env.do("GET", "EIO=4&transport=abc", nil, nil)
	assert.Empty(t, r.header.Values("Set-Cookie"))
}

// TestEngineHTTPHandlerPanic: a panicking handler is recovered and logged,
// and the server keeps serving the session and others.
func TestEngineHTTPHandlerPanic(t *testing.T) {
	var logs lockedBuffer
	e := NewEngine(EngineOptions{PingInterval: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.OnConnection(func(c *EngineConn) {
		c.OnMessage(func(data []byte, binary bool) {
			if string(data) == "boom" {
				panic("handler exploded")
			}
			_ = c.Send(data, binary)
		})
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	env := &ehEnv{t: t, e: e, srv: srv, client: &http.Client{Transport: &http.Transport{}}, url: srv.URL + e.Path()}
	defer env.client.CloseIdleConnections()

	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	p := env.do("POST", q, []byte("4boom\x1e4after"), nil)
	assert.Equal(t, 200, p.status)
	assert.Equal(t, "ok", p.String())
	g := env.do("GET", q, nil, nil)
	assert.Equal(t, "4after", g.String(), "the session survives the panic")
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "siohost: handler panic")
	}, ehWait, time.Millisecond)
	line := logs.String()
	assert.Contains(t, line, "level=ERROR")
	assert.Contains(t, line, "panic=\"handler exploded\"")
	assert.Contains(t, line, "stack=")

	// Another session works too.
	sid2 := env.handshake()
	require.Equal(t, "ok", env.do("POST", "EIO=4&transport=polling&sid="+sid2, []byte("4fine"), nil).String())
	assert.Equal(t, "4fine", env.do("GET", "EIO=4&transport=polling&sid="+sid2, nil, nil).String())
	assert.Equal(t, 2, e.Len())
}

// TestEngineHTTPGETDropped: a pending GET whose client goes away closes the
// session with "transport error".
func TestEngineHTTPGETDropped(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", env.url+"?"+q, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		resp, err := env.client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	env.waitParked(1)
	cancel()
	require.Error(t, <-done)
	assert.Equal(t, ehClose{sid, "transport error", "poll connection closed prematurely"}, env.waitClose())
	assert.Zero(t, env.parked())
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")
}

// ehSlowPOST starts a POST whose body the test writes itself. It returns
// once the server is reading the body: the client sends it only after the
// server's "100 Continue", which net/http sends when the handler first
// reads.
func (env *ehEnv) ehSlowPOST(ctx context.Context, query string) (*io.PipeWriter, <-chan ehResp) {
	env.t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, "POST", env.url+"?"+query, pr)
	require.NoError(env.t, err)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
	env.t.Cleanup(client.CloseIdleConnections)
	ch := make(chan ehResp, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			ch <- ehResp{status: -1, body: []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		ch <- ehResp{status: resp.StatusCode, header: resp.Header, body: b}
	}()
	// This write completes only once the server reads the body.
	_, err = pw.Write([]byte("4par"))
	require.NoError(env.t, err)
	return pw, ch
}

// TestEngineHTTPOverlappingPOST: a second POST while the first one's body
// is being read gets 400 and closes the session.
func TestEngineHTTPOverlappingPOST(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	pw, first := env.ehSlowPOST(context.Background(), q)
	second := env.do("POST", q, []byte("4second"), nil)
	assert.Equal(t, 400, second.status)
	assert.Empty(t, second.body)
	assert.Equal(t, ehClose{sid, "transport error", "invalid data request"}, env.waitClose())
	// The first body ends after the close: refused too.
	_, _ = pw.Write([]byte("tial"))
	require.NoError(t, pw.Close())
	r := env.recv(first)
	assert.Equal(t, 400, r.status)
	select {
	case m := <-env.msgs:
		t.Fatalf("message delivered from a closed session: %+v", m)
	default:
	}
}

// TestEngineHTTPSlowPOST: a body that arrives in pieces is decoded whole.
func TestEngineHTTPSlowPOST(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	pw, first := env.ehSlowPOST(context.Background(), "EIO=4&transport=polling&sid="+sid)
	_, _ = pw.Write([]byte("tial\x1e4two"))
	require.NoError(t, pw.Close())
	r := env.recv(first)
	assert.Equal(t, "ok", r.String())
	assert.Equal(t, ehMsg{sid, "partial", false}, env.waitMsg())
	assert.Equal(t, ehMsg{sid, "two", false}, env.waitMsg())
}

// TestEngineHTTPPOSTAborted: a POST whose client goes away mid-body closes
// the session with "transport error".
func TestEngineHTTPPOSTAborted(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	ctx, cancel := context.WithCancel(context.Background())
	pw, first := env.ehSlowPOST(ctx, "EIO=4&transport=polling&sid="+sid)
	cancel()
	_ = pw.CloseWithError(errors.New("gone"))
	<-first
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
	assert.Zero(t, env.e.Len())
}

// TestEngineHTTPTransportMismatch: a non-upgrade request naming another
// transport than the session's is refused with code 3.
func TestEngineHTTPTransportMismatch(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	requireEIOError(t, env.do("GET", "EIO=4&transport=websocket&sid="+sid, nil, nil), 400, 3, "Bad request")
	ce := env.waitConnError()
	assert.Equal(t, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": "websocket", "previousTransport": "polling"}, ce.Context)
	// The session is untouched.
	c := env.conn(sid)
	require.NoError(t, c.Send([]byte("x"), false))
	assert.Equal(t, "4x", env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil).String())
}

// TestEngineHTTPClose: Engine.Close ends every session: pending GETs get a
// close packet, WebSockets a close frame.
func TestEngineHTTPClose(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sids := map[string]bool{}
	var gets []<-chan ehResp
	for range 5 {
		sid := env.handshake()
		sids[sid] = true
		gets = append(gets, env.goDo("GET", "EIO=4&transport=polling&sid="+sid, nil))
	}
	env.waitParked(5)
	w, wsid := env.wsOpen()
	sids[wsid] = true
	idle := env.handshake()
	sids[idle] = true

	env.e.Close()
	for _, g := range gets {
		r := env.recv(g)
		assert.Equal(t, 200, r.status)
		assert.Equal(t, "1", r.String())
	}
	w.expectClose(nil)
	for range sids {
		cl := env.waitClose()
		assert.True(t, sids[cl.sid], "unknown session %s", cl.sid)
		delete(sids, cl.sid)
		assert.Equal(t, "server shutting down", cl.reason)
	}
	assert.Zero(t, env.e.Len())
	requireEIOError(t, env.do("GET", "EIO=4&transport=polling&sid="+idle, nil, nil), 400, 1, "Session ID unknown")
	// The engine still accepts new sessions.
	env.handshake()
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineHTTPConcurrentSends: messages sent from many goroutines to a
// polling session all arrive, once each and in per-goroutine order.
func TestEngineHTTPConcurrentSends(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	conn := env.conn(sid)
	const senders, each = 4, 50
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				_ = conn.Send([]byte{byte('a' + g), byte('0' + i%10)}, i%2 == 1)
			}
		})
	}
	var got []string
	for len(got) < senders*each {
		r := env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil)
		require.Equal(t, 200, r.status)
		for _, p := range strings.Split(r.String(), "\x1e") {
			if p[0] == 'b' {
				b, err := base64.StdEncoding.DecodeString(p[1:])
				require.NoError(t, err)
				got = append(got, string(b))
			} else {
				require.Equal(t, byte('4'), p[0], "packet %q", p)
				got = append(got, p[1:])
			}
		}
	}
	wg.Wait()
	next := make([]int, senders)
	for _, m := range got {
		g := int(m[0] - 'a')
		require.Equal(t, string([]byte{byte('0' + next[g]%10)}), m[1:], "sender %d out of order", g)
		next[g]++
	}
	assert.Equal(t, []int{each, each, each, each}, next)
}

// TestEngineHTTPSendOnOpen: what the connection handler sends comes right
// after the open packet.
func TestEngineHTTPSendOnOpen(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sent := make(chan struct{})
	env.onOpen = func(c *EngineConn) {
		_ = c.Send([]byte("welcome"), false)
		_ = c.Send([]byte{1}, true)
		close(sent)
	}
	sid := env.handshake()
	// The handler runs on the connection's mailbox, after the handshake
	// answer (in Node it runs before): a GET parked before it would take
	// the first message alone.
	<-sent
	g := env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil)
	assert.Equal(t, "4welcome\x1ebAQ==", g.String())
}

// TestEngineHTTPCloseOnOpen: a session closed by its connection handler
// still gets its open packet, then is gone.
func TestEngineHTTPCloseOnOpen(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	env.onOpen = func(c *EngineConn) { c.Close() }
	sid := env.handshake()
	assert.Equal(t, ehClose{sid, "forced close", ""}, env.waitClose())
	// The next GET hears of the close, as in the reference; then the id is
	// gone.
	r := env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "1", r.String())
	requireEIOError(t, env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil), 400, 1, "Session ID unknown")
}
