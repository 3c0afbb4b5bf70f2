package hostnative

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// connectFailure connects "/" without reconnection and returns the
// connect_error, checking that OnConnectError saw the same one.
func connectFailure(t *testing.T, url string, opts ManagerOptions) *ClientConnectError {
	t.Helper()
	return connectFailureSeen(t, url, opts, true)
}

// connectFailureSeen is connectFailure; seen tells whether OnConnectError
// runs (not for a session that opened, then closed before the namespace
// connected: socket.io-client reports that as a disconnect).
func connectFailureSeen(t *testing.T, url string, opts ManagerOptions, handler bool) *ClientConnectError {
	t.Helper()
	opts.NoReconnection = true
	m := mtManager(t, url, opts)
	s := m.Socket("/")
	seen := make(chan *ClientConnectError, 1)
	s.OnConnectError(func(ce *ClientConnectError) { seen <- ce })
	err := s.Connect(mtCtx(t))
	var ce *ClientConnectError
	require.ErrorAs(t, err, &ce)
	if handler {
		got := mtRecv(t, seen, "connect_error handler")
		assert.Equal(t, ce.Message, got.Message)
	}
	assert.False(t, s.Connected())
	return ce
}

// TestManagerDiagnostics goes through the failure modes of the
// troubleshooting guide: each yields its own connect_error, with the
// message of the JavaScript client, a description, and the diagnostic
// (status, code, body, hint) as context.
func TestManagerDiagnostics(t *testing.T) {
	t.Parallel()
	t.Run("plain-websocket-server", func(t *testing.T) {
		t.Parallel()
		url := cePlainWS(t, []byte(`{"type":"welcome"}`))
		ce := connectFailure(t, url, ManagerOptions{Transports: []string{"websocket"}})
		assert.Equal(t, "websocket error", ce.Message)
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrNotEngineIO, ce.Context.Kind)
		assert.Contains(t, ce.Context.Hint, "does not speak Engine.IO")
		assert.Contains(t, ce.Error(), "welcome")
	})
	t.Run("wrong-path", func(t *testing.T) {
		t.Parallel()
		io := NewServer(ServerOptions{})
		t.Cleanup(io.Close)
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", io)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		ce := connectFailure(t, srv.URL, ManagerOptions{Path: "/realtime"})
		assert.Equal(t, "xhr poll error", ce.Message)
		assert.Equal(t, "404", ce.Description)
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrHTTP, ce.Context.Kind)
		assert.Equal(t, 404, ce.Context.Status)
		assert.Contains(t, ce.Context.Hint, "check the path")
	})
	t.Run("html-page", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!doctype html><title>My app</title>"))
		}))
		t.Cleanup(srv.Close)
		ce := connectFailure(t, srv.URL, ManagerOptions{})
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrNotEngineIO, ce.Context.Kind)
		assert.Equal(t, "text/html; charset=utf-8", ce.Context.ContentType)
		assert.Contains(t, ce.Context.Body, "My app")
		assert.Contains(t, ce.Context.Hint, "wrong path")
	})
	t.Run("cors-refusal", func(t *testing.T) {
		t.Parallel()
		// A proxy that refuses the origin before the server sees it.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Forbidden: origin not allowed", http.StatusForbidden)
		}))
		t.Cleanup(srv.Close)
		ce := connectFailure(t, srv.URL, ManagerOptions{})
		assert.Equal(t, "403", ce.Description)
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrHTTP, ce.Context.Kind)
		assert.Contains(t, ce.Context.Hint, "origin (CORS)")
	})
	t.Run("allow-request-refusal", func(t *testing.T) {
		t.Parallel()
		io := NewServer(ServerOptions{Engine: EngineOptions{AllowRequest: func(*http.Request) error {
			return errors.New("origin not allowed")
		}}})
		t.Cleanup(io.Close)
		srv := httptest.NewServer(io)
		t.Cleanup(srv.Close)
		ce := connectFailure(t, srv.URL, ManagerOptions{})
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrEngineIO, ce.Context.Kind)
		assert.Equal(t, 403, ce.Context.Status)
		assert.Equal(t, eio.CodeForbidden, ce.Context.Code)
		assert.Contains(t, ce.Context.Hint, "allowRequest")
	})
	t.Run("session-unknown", func(t *testing.T) {
		t.Parallel()
		// Two instances behind a round-robin balancer without sticky
		// sessions: the requests after the handshake reach the other one.
		a, b := NewServer(ServerOptions{}), NewServer(ServerOptions{})
		t.Cleanup(a.Close)
		t.Cleanup(b.Close)
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 1 {
				a.ServeHTTP(w, r)
			} else {
				b.ServeHTTP(w, r)
			}
		}))
		t.Cleanup(srv.Close)
		ce := connectFailureSeen(t, srv.URL, ManagerOptions{Transports: []string{"polling"}}, false)
		assert.Equal(t, "transport error", ce.Message)
		var diag *eio.ClientError
		require.ErrorAs(t, ce, &diag)
		assert.Equal(t, eio.CodeUnknownSID, diag.Code)
		assert.Equal(t, "Session ID unknown", diag.Message)
		assert.Contains(t, diag.Hint, "sticky sessions")
	})
	t.Run("session-lost", func(t *testing.T) {
		t.Parallel()
		// The server behind the address changes while a polling session
		// is connected: its next request meets "Session ID unknown".
		var cur atomic.Pointer[Server]
		first := NewServer(ServerOptions{})
		t.Cleanup(first.Close)
		cur.Store(first)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.Load().ServeHTTP(w, r) }))
		t.Cleanup(srv.Close)
		m := mtManager(t, srv.URL, ManagerOptions{Transports: []string{"polling"}, NoReconnection: true})
		s := m.Socket("/")
		discs := make(chan *DisconnectDetails, 1)
		reasons := make(chan string, 1)
		s.OnDisconnect(func(reason string, d *DisconnectDetails) { reasons <- reason; discs <- d })
		require.NoError(t, s.Connect(mtCtx(t)))
		second := NewServer(ServerOptions{})
		t.Cleanup(second.Close)
		cur.Store(second)
		require.NoError(t, s.Emit("hello")) // a POST to the new server, if the GET is not first
		assert.Equal(t, "transport error", mtRecv(t, reasons, "disconnect"))
		d := mtRecv(t, discs, "details")
		require.NotNil(t, d)
		assert.Equal(t, "xhr poll error", d.Message)
		require.NotNil(t, d.Context)
		assert.Equal(t, eio.CodeUnknownSID, d.Context.Code)
		assert.Contains(t, d.Context.Hint, "sticky sessions")
	})
	t.Run("parse-error", func(t *testing.T) {
		t.Parallel()
		// An Engine.IO server that accepts "/" then sends a packet the
		// Socket.IO parser refuses.
		e := NewEngine(EngineOptions{Path: "/socket.io"})
		t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
		e.OnConnection(func(c *EngineConn) {
			c.OnMessage(func(data []byte, _ bool) {
				if string(data) == "0" {
					_ = c.Send([]byte(`0{"sid":"abc"}`), false)
					_ = c.Send([]byte(`2["unterminated`), false)
				}
			})
		})
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", e)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		m := mtManager(t, srv.URL, ManagerOptions{Transports: []string{"websocket"}, NoReconnection: true})
		s := m.Socket("/")
		discs := make(chan *DisconnectDetails, 1)
		reasons := make(chan string, 1)
		s.OnDisconnect(func(reason string, d *DisconnectDetails) { reasons <- reason; discs <- d })
		require.NoError(t, s.Connect(mtCtx(t)))
		assert.Equal(t, "parse error", mtRecv(t, reasons, "disconnect"))
		d := mtRecv(t, discs, "details")
		require.NotNil(t, d)
		assert.NotEmpty(t, d.Description)
	})
	t.Run("unsupported-protocol", func(t *testing.T) {
		t.Parallel()
		_, srv := mtServer(t, nil)
		ce := connectFailure(t, srv.URL, ManagerOptions{Protocol: 3})
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.CodeUnsupportedProtocol, ce.Context.Code)
		assert.Equal(t, "Unsupported protocol version", ce.Context.Message)
		assert.Contains(t, ce.Context.Hint, "allowEIO3")
	})
	t.Run("ping-timeout-details", func(t *testing.T) {
		t.Parallel()
		// Our own server stops answering: a proxy that swallows its bytes.
		io := NewServer(ServerOptions{Engine: EngineOptions{PingInterval: 200 * time.Millisecond, PingTimeout: 300 * time.Millisecond}})
		t.Cleanup(io.Close)
		srv := httptest.NewServer(io)
		t.Cleanup(srv.Close)
		proxy := newFreezeProxy(t, srv.Listener.Addr().String())
		m := mtManager(t, "http://"+proxy.addr(), ManagerOptions{Transports: []string{"websocket"}, NoReconnection: true})
		s := m.Socket("/")
		type disc struct {
			reason  string
			details *DisconnectDetails
		}
		discs := make(chan disc, 1)
		s.OnDisconnect(func(reason string, d *DisconnectDetails) { discs <- disc{reason, d} })
		require.NoError(t, s.Connect(mtCtx(t)))
		proxy.freeze()
		d := mtRecv(t, discs, "disconnect")
		assert.Equal(t, "ping timeout", d.reason)
		require.NotNil(t, d.details)
		var ee *EngineError
		require.ErrorAs(t, d.details.Err, &ee)
		assert.Equal(t, "ping timeout", ee.Reason)
		assert.Nil(t, d.details.Context, "a ping timeout is no failure of a request")
	})
}

// freezeProxy forwards TCP connections to a server until frozen; then it
// swallows what either side sends, as a server that hangs would.
type freezeProxy struct {
	address string
	frozen  atomic.Bool
}

func newFreezeProxy(t *testing.T, backend string) *freezeProxy {
	t.Helper()
	p := &freezeProxy{}
	p.address = startProxy(t, backend, func(dst, src net.Conn, _ bool) {
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if err != nil {
				// A hung server closes nothing: once frozen, the other
				// side's close (the server's own ping timeout) must not
				// reach the client, or it would see "transport close".
				if !p.frozen.Load() {
					_ = dst.Close()
				}
				return
			}
			if !p.frozen.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
	})
	return p
}

func (p *freezeProxy) addr() string { return p.address }
func (p *freezeProxy) freeze()      { p.frozen.Store(true) }

// TestManagerDiagnosticsNodeV2: a socket.io 2.x server, which a v5 client
// cannot talk to: over polling its answer is framed for Engine.IO v3;
// over WebSocket the framing matches but its CONNECT reply has no sid.
func TestManagerDiagnosticsNodeV2(t *testing.T) {
	t.Parallel()
	node := startNodeServer(t, "sio2_server.js")
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		ce := connectFailure(t, node.url, ManagerOptions{})
		require.NotNil(t, ce.Context)
		assert.Equal(t, eio.ClientErrProtocol, ce.Context.Kind)
		assert.Equal(t, 3, ce.Context.ServerProtocol)
		assert.Contains(t, ce.Context.Hint, "socket.io 2.x")
	})
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		ce := connectFailure(t, node.url, ManagerOptions{Transports: []string{"websocket"}})
		assert.Equal(t, sio.MessageServerV2, ce.Message)
		var diag *sio.ClientError
		require.ErrorAs(t, ce, &diag)
		assert.Equal(t, sio.ClientErrServerV2, diag.Kind)
		assert.Contains(t, ce.Description, "protocol 3")
	})
}
