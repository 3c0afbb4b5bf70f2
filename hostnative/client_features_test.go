package hostnative

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	stdio "io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/sio"
)

// TestClientOnAnyOff: OnAny sees every event before the event's own
// handler; Off removes one handler, OffAny the catch-alls.
func TestClientOnAnyOff(t *testing.T) {
	t.Parallel()
	socks := make(chan *Socket, 1)
	_, srv := mtServer(t, echoSetup(nil, socks))
	m := mtManager(t, srv.URL, ManagerOptions{})
	s := m.Socket("/")
	got := make(chan string, 16)
	s.OnAny(func(ev *ClientEvent) { got <- "any:" + ev.Name })
	s.On("a", func(ev *ClientEvent) { got <- "a" })
	require.NoError(t, s.Connect(mtCtx(t)))
	ss := mtRecv(t, socks, "server socket")
	require.NoError(t, ss.Emit("a"))
	require.NoError(t, ss.Emit("b"))
	assert.Equal(t, "any:a", mtRecv(t, got, "event"))
	assert.Equal(t, "a", mtRecv(t, got, "event"))
	assert.Equal(t, "any:b", mtRecv(t, got, "event"))
	s.Off("a")
	require.NoError(t, ss.Emit("a"))
	assert.Equal(t, "any:a", mtRecv(t, got, "event"))
	s.OffAny()
	s.On("c", func(ev *ClientEvent) { got <- "c" })
	require.NoError(t, ss.Emit("a"))
	require.NoError(t, ss.Emit("c"))
	assert.Equal(t, "c", mtRecv(t, got, "event"), "neither the removed handler nor OnAny ran")
}

// TestClientVolatile: a volatile emit is dropped while the namespace is not
// connected, where a plain one is buffered.
func TestClientVolatile(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 8)
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.On("note", func(ev *Event) {
				var v string
				_ = ev.Arg(0, &v)
				seen <- v
			})
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{Transports: []string{"websocket"}})
	s := m.Socket("/")
	require.NoError(t, s.Volatile().Emit("note", "dropped"))
	require.NoError(t, s.Emit("note", "buffered"))
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.Equal(t, "buffered", mtRecv(t, seen, "buffered emit"))
	require.NoError(t, s.Volatile().Emit("note", "volatile"))
	assert.Equal(t, "volatile", mtRecv(t, seen, "volatile emit"))
	require.NoError(t, s.Emit("note", "last"))
	assert.Equal(t, "last", mtRecv(t, seen, "last emit"), "the dropped emit never came")
}

// TestClientAckTimeouts: Timeout and ManagerOptions.AckTimeout bound the
// wait for an ack the server never sends; the context too.
func TestClientAckTimeouts(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.On("noack", func(*Event) {})
			s.On("add", func(ev *Event) {
				var a, b int
				_ = ev.Arg(0, &a)
				_ = ev.Arg(1, &b)
				_ = ev.Ack(a + b)
			})
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{AckTimeout: 150 * time.Millisecond})
	s := m.Socket("/")
	require.NoError(t, s.Connect(mtCtx(t)))

	_, err := s.Timeout(50*time.Millisecond).EmitWithAck(mtCtx(t), "noack")
	assert.ErrorIs(t, err, ErrAckTimeout)
	_, err = s.EmitWithAck(mtCtx(t), "noack")
	assert.ErrorIs(t, err, ErrAckTimeout, "ManagerOptions.AckTimeout")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = s.Timeout(time.Minute).EmitWithAck(ctx, "noack")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	resp, err := s.Timeout(time.Second).EmitWithAck(mtCtx(t), "add", 1, 2)
	require.NoError(t, err)
	var sum int
	require.NoError(t, resp.Arg(0, &sum))
	assert.Equal(t, 3, sum)
	m.mu.Lock()
	assert.Empty(t, m.acks, "no ack left waiting")
	m.mu.Unlock()
}

// TestClientRetries: with Retries, an emit whose ack does not come in time
// is sent again, and emits go one at a time, in order.
func TestClientRetries(t *testing.T) {
	t.Parallel()
	var flaky, lost atomic.Int32
	var mu sync.Mutex
	var order []int
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.On("flaky", func(ev *Event) {
				if flaky.Add(1) == 1 {
					return // the first one is "lost"
				}
				_ = ev.Ack("ok")
			})
			s.On("lost", func(*Event) { lost.Add(1) })
			s.On("seq", func(ev *Event) {
				var n int
				_ = ev.Arg(0, &n)
				mu.Lock()
				order = append(order, n)
				mu.Unlock()
				assert.True(t, ev.HasAck(), "retried emits carry an ack id")
				_ = ev.Ack()
			})
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{AckTimeout: 200 * time.Millisecond, Retries: 3})
	s := m.Socket("/")
	require.NoError(t, s.Connect(mtCtx(t)))
	resp, err := s.EmitWithAck(mtCtx(t), "flaky")
	require.NoError(t, err)
	var v string
	require.NoError(t, resp.Arg(0, &v))
	assert.Equal(t, "ok", v)
	assert.EqualValues(t, 2, flaky.Load())

	for i := 1; i <= 5; i++ {
		require.NoError(t, s.Emit("seq", i))
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) == 5
	}, mtWait, 5*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []int{1, 2, 3, 4, 5}, order)
	mu.Unlock()

	// Once the retries are spent, the error comes back.
	m2 := mtManager(t, srv.URL, ManagerOptions{AckTimeout: 50 * time.Millisecond, Retries: 1})
	s2 := m2.Socket("/")
	require.NoError(t, s2.Connect(mtCtx(t)))
	_, err = s2.EmitWithAck(mtCtx(t), "lost")
	assert.ErrorIs(t, err, ErrAckTimeout)
	require.Eventually(t, func() bool { return lost.Load() == 2 }, mtWait, 5*time.Millisecond, "sent twice: once and one retry")
	time.Sleep(100 * time.Millisecond)
	assert.EqualValues(t, 2, lost.Load(), "and no more")
}

// TestClientAuth: an AuthFunc runs before each CONNECT (a new token after
// a reconnection), and a namespace may have its own auth.
func TestClientAuth(t *testing.T) {
	t.Parallel()
	auths := make(chan string, 8)
	socks := make(chan *Socket, 8)
	_, srv := mtServer(t, func(io *Server) {
		record := func(s *Socket) {
			auths <- s.Namespace().Name() + " " + string(s.Handshake().Auth)
			socks <- s
		}
		io.OnConnection(record)
		io.Of("/admin").OnConnection(record)
	})
	var calls atomic.Int32
	m := mtManager(t, srv.URL, ManagerOptions{
		Auth: AuthFunc(func(context.Context) (any, error) {
			return map[string]any{"token": calls.Add(1)}, nil
		}),
		ReconnectionDelay: 10 * time.Millisecond,
	})
	root := m.Socket("/")
	admin := m.Socket("/admin")
	require.NoError(t, admin.SetAuth(json.RawMessage(`{"role":"admin"}`)))
	require.NoError(t, root.Connect(mtCtx(t)))
	assert.Equal(t, `/ {"token":1}`, mtRecv(t, auths, "auth"))
	rootSock := mtRecv(t, socks, "socket")
	require.NoError(t, admin.Connect(mtCtx(t)))
	assert.Equal(t, `/admin {"role":"admin"}`, mtRecv(t, auths, "auth"))
	mtRecv(t, socks, "socket")

	// The server drops the transport: both namespaces come back, "/"
	// with a fresh token.
	rootSock.Conn().Close()
	got := []string{mtRecv(t, auths, "auth after reconnection"), mtRecv(t, auths, "auth after reconnection")}
	assert.ElementsMatch(t, []string{`/ {"token":2}`, `/admin {"role":"admin"}`}, got)

	assert.ErrorIs(t, admin.SetAuth("not an object"), sio.ErrInvalidAuth)
}

// TestClientManagerEvents: the Manager's open, upgrade, close, reconnect
// attempt and reconnect events, and the transport's name.
func TestClientManagerEvents(t *testing.T) {
	t.Parallel()
	var cur atomic.Pointer[Server]
	start := func() *Server {
		io := NewServer(ServerOptions{})
		t.Cleanup(io.Close)
		cur.Store(io)
		return io
	}
	old := start()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m := mtManager(t, srv.URL, ManagerOptions{ReconnectionDelay: 10 * time.Millisecond, ReconnectionDelayMax: 20 * time.Millisecond})
	events := make(chan string, 32)
	m.OnOpen(func() { events <- "open" })
	m.OnUpgrade(func(tr string) { events <- "upgrade " + tr })
	m.OnClose(func(reason string, _ *DisconnectDetails) { events <- "close " + reason })
	m.OnReconnectAttempt(func(n int) { events <- "attempt" })
	m.OnReconnect(func(n int) { events <- "reconnect" })
	s := m.Socket("/")
	s.OnConnect(func() { events <- "connect" })
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.Equal(t, "open", mtRecv(t, events, "open"))
	// The upgrade may beat the CONNECT reply.
	got := []string{mtRecv(t, events, "connect"), mtRecv(t, events, "upgrade")}
	assert.ElementsMatch(t, []string{"connect", "upgrade websocket"}, got)
	assert.Equal(t, "websocket", s.Transport())

	start()
	old.Close()
	var after []string
	for len(after) == 0 || after[len(after)-1] != "connect" {
		if ev := mtRecv(t, events, "event after the restart"); ev != "upgrade websocket" {
			after = append(after, ev)
		}
	}
	assert.Contains(t, []string{"close transport close", "close transport error"}, after[0])
	assert.Equal(t, []string{"attempt", "open", "reconnect", "connect"}, after[1:])

	// The application leaves the last namespace: the session closes.
	s.Disconnect()
	for ev := mtRecv(t, events, "close"); ev != "close forced close"; ev = mtRecv(t, events, "close") {
		assert.Equal(t, "upgrade websocket", ev)
	}
}

// TestClientDial: Dial takes the namespace from the URL and shares one
// Manager per server, unless ForceNew.
func TestClientDial(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, func(io *Server) { io.Of("/chat") })
	ctx := mtCtx(t)
	root, err := Dial(ctx, srv.URL, ManagerOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = root.Manager().Close() })
	chat, err := Dial(ctx, srv.URL+"/chat", ManagerOptions{})
	require.NoError(t, err)
	assert.Equal(t, "/", root.Namespace())
	assert.Equal(t, "/chat", chat.Namespace())
	assert.Same(t, root.Manager(), chat.Manager(), "one Engine.IO session for both")
	other, err := Dial(ctx, srv.URL+"/chat", ManagerOptions{ForceNew: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Manager().Close() })
	assert.NotSame(t, chat.Manager(), other.Manager())
	assert.NotEqual(t, chat.ID(), other.ID())

	_, err = Dial(ctx, srv.URL+"/missing", ManagerOptions{ForceNew: true})
	var ce *ClientConnectError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Invalid namespace", ce.Message)
}

// TestClientTLSAndBase64: the Manager passes its TLS configuration to
// https and wss, and ForceBase64 sends binary as base64 text over polling.
func TestClientTLSAndBase64(t *testing.T) {
	t.Parallel()
	io := NewServer(ServerOptions{})
	echoSetup(nil, nil)(io)
	t.Cleanup(io.Close)
	// ForceBase64 asks for it in the handshake (b64=1), and only there, as
	// engine.io-client does: the server keeps it for the session.
	var b64Handshakes, b64Others atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch q := r.URL.Query(); {
		case q.Has("b64") && !q.Has("sid"):
			b64Handshakes.Add(1)
		case q.Has("b64"):
			b64Others.Add(1)
		}
		io.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(stdio.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	for _, opts := range []ManagerOptions{
		{TLSConfig: &tls.Config{RootCAs: roots}},
		{TLSConfig: &tls.Config{RootCAs: roots}, Transports: []string{"polling"}, ForceBase64: true},
	} {
		m := mtManager(t, srv.URL, opts)
		upgraded := make(chan string, 1)
		m.OnUpgrade(func(tr string) { upgraded <- tr })
		s := m.Socket("/")
		echoes := make(chan []byte, 1)
		s.On("echo", func(ev *ClientEvent) {
			var b []byte
			_ = ev.Arg(0, &b)
			echoes <- b
		})
		require.NoError(t, s.Connect(mtCtx(t)))
		if !opts.ForceBase64 {
			assert.Equal(t, "websocket", mtRecv(t, upgraded, "upgrade to wss"))
		}
		require.NoError(t, s.Emit("echo", []byte{0xff, 0, 1}))
		assert.Equal(t, []byte{0xff, 0, 1}, mtRecv(t, echoes, "binary echo"))
		if opts.ForceBase64 {
			assert.EqualValues(t, 1, b64Handshakes.Load(), "b64=1 in the handshake")
		} else {
			assert.Zero(t, b64Handshakes.Load())
		}
		assert.Zero(t, b64Others.Load())
	}
	m := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true})
	err := m.Socket("/").Connect(mtCtx(t))
	var unknownCA x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknownCA, "without the server's certificate")
}

// TestClientHandlerPanic: a panicking handler is recovered and logged; the
// next events still run.
func TestClientHandlerPanic(t *testing.T) {
	t.Parallel()
	socks := make(chan *Socket, 1)
	_, srv := mtServer(t, echoSetup(nil, socks))
	var logged lockedBuffer
	m := mtManager(t, srv.URL, ManagerOptions{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	s := m.Socket("/")
	got := make(chan string, 1)
	s.On("boom", func(*ClientEvent) { panic("handler bug") })
	s.On("after", func(*ClientEvent) { got <- "after" })
	require.NoError(t, s.Connect(mtCtx(t)))
	ss := mtRecv(t, socks, "server socket")
	require.NoError(t, ss.Emit("boom"))
	require.NoError(t, ss.Emit("after"))
	assert.Equal(t, "after", mtRecv(t, got, "the event after the panic"))
	assert.Contains(t, logged.String(), "handler bug")
}

// TestClientRememberUpgrade: with RememberUpgrade, a Manager whose server
// worked over WebSocket before starts its session there; the upgrade and
// the prior success go through the client core's effects.
func TestClientRememberUpgrade(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, echoSetup(nil, nil))
	opts := ManagerOptions{RememberUpgrade: true}
	m := mtManager(t, srv.URL, opts)
	upgraded := make(chan string, 1)
	m.OnUpgrade(func(tr string) { upgraded <- tr })
	s := m.Socket("/")
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.Equal(t, "websocket", mtRecv(t, upgraded, "upgrade"))
	assert.Equal(t, "websocket", s.Transport())
	require.NoError(t, m.Close())

	m2 := mtManager(t, srv.URL, opts)
	m2.OnUpgrade(func(tr string) { upgraded <- tr })
	s2 := m2.Socket("/")
	require.NoError(t, s2.Connect(mtCtx(t)))
	assert.Equal(t, "websocket", s2.Transport(), "the second session starts on WebSocket")
	select {
	case tr := <-upgraded:
		t.Fatalf("upgraded again, to %s", tr)
	case <-time.After(50 * time.Millisecond):
	}
}
