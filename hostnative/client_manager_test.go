package hostnative

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mtWait = 5 * time.Second

// mtServer starts a Socket.IO server; setup adds handlers before it serves.
func mtServer(t testing.TB, setup func(io *Server)) (*Server, *httptest.Server) {
	t.Helper()
	io := NewServer(ServerOptions{})
	if setup != nil {
		setup(io)
	}
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	t.Cleanup(io.Close)
	return io, srv
}

func mtManager(t *testing.T, url string, opts ManagerOptions) *Manager {
	t.Helper()
	opts.Core = testClientCore(opts.Core)
	m, err := NewManager(url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func mtCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), mtWait)
	t.Cleanup(cancel)
	return ctx
}

func mtRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return recv(t, ch, mtWait, what)
}

// echoSetup: "/" records the auth, echoes "echo" back, acks "add" with the
// sum, and hands its sockets to the test.
func echoSetup(auths chan<- string, socks chan<- *Socket) func(io *Server) {
	return func(io *Server) {
		io.OnConnection(func(s *Socket) {
			if auths != nil {
				auths <- string(s.Handshake().Auth)
			}
			s.On("echo", func(ev *Event) {
				_ = s.EmitRaw("echo", ev.ArgsJSON(), ev.Attachments())
			})
			s.On("add", func(ev *Event) {
				var a, b int
				_ = ev.Arg(0, &a)
				_ = ev.Arg(1, &b)
				_ = ev.Ack(a + b)
			})
			if socks != nil {
				socks <- s
			}
		})
	}
}

func TestManagerConnectEmitAck(t *testing.T) {
	t.Parallel()
	for _, transports := range [][]string{nil, {"polling"}, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			auths := make(chan string, 4)
			socks := make(chan *Socket, 4)
			_, srv := mtServer(t, echoSetup(auths, socks))
			m := mtManager(t, srv.URL, ManagerOptions{Transports: transports, Auth: map[string]any{"token": "abc"}})
			s := m.Socket("/")
			echoes := make(chan *ClientEvent, 4)
			s.On("echo", func(ev *ClientEvent) { echoes <- ev })
			asked := make(chan int, 1)
			s.On("ask", func(ev *ClientEvent) {
				var n int
				require.NoError(t, ev.Arg(0, &n))
				asked <- n
				assert.True(t, ev.HasAck())
				assert.NoError(t, ev.Ack(n*2, "ok"))
			})
			require.NoError(t, s.Connect(mtCtx(t)))
			assert.True(t, s.Connected())
			assert.JSONEq(t, `{"token":"abc"}`, mtRecv(t, auths, "auth"))
			ss := mtRecv(t, socks, "server socket")
			assert.Equal(t, ss.ID(), s.ID())

			// Emit, echoed back, with a binary argument.
			require.NoError(t, s.Emit("echo", "hi", map[string]any{"n": 1}, []byte{1, 2, 3}))
			ev := mtRecv(t, echoes, "echo")
			assert.Equal(t, 3, ev.Len())
			var str string
			require.NoError(t, ev.Arg(0, &str))
			assert.Equal(t, "hi", str)
			var obj map[string]int
			require.NoError(t, ev.Arg(1, &obj))
			assert.Equal(t, map[string]int{"n": 1}, obj)
			var bin []byte
			require.NoError(t, ev.Arg(2, &bin))
			assert.Equal(t, []byte{1, 2, 3}, bin)
			assert.False(t, ev.HasAck())

			// EmitWithAck answered by the server.
			resp, err := s.EmitWithAck(mtCtx(t), "add", 2, 3)
			require.NoError(t, err)
			var sum int
			require.NoError(t, resp.Arg(0, &sum))
			assert.Equal(t, 5, sum)

			// Server → client with an ack from the client's handler.
			sresp, err := ss.EmitWithAck(mtCtx(t), "ask", 21)
			require.NoError(t, err)
			assert.Equal(t, 21, mtRecv(t, asked, "ask"))
			raw, _ := sresp.Raw()
			assert.JSONEq(t, `[42,"ok"]`, string(raw))
		})
	}
}

func transportsName(ts []string) string {
	if len(ts) == 0 {
		return "default"
	}
	return ts[0]
}

func TestManagerEmitWithAckContext(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) { s.On("never", func(*Event) {}) })
	})
	m := mtManager(t, srv.URL, ManagerOptions{})
	s := m.Socket("/")
	require.NoError(t, s.Connect(mtCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.EmitWithAck(ctx, "never")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	m.mu.Lock()
	assert.Empty(t, m.acks)
	assert.Empty(t, m.acks, "no ack of \"/\" awaited")
	m.mu.Unlock()
}

func TestManagerCustomNamespace(t *testing.T) {
	t.Parallel()
	got := make(chan string, 2)
	_, srv := mtServer(t, func(io *Server) {
		io.Of("/chat").OnConnection(func(s *Socket) {
			got <- string(s.Handshake().Auth)
			s.On("msg", func(ev *Event) {
				var v string
				_ = ev.Arg(0, &v)
				_ = s.Emit("msg", "chat:"+v)
			})
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{Auth: json.RawMessage(`{"u":1}`)})
	s := m.Socket("/chat")
	assert.Same(t, s, m.Socket("/chat"))
	msgs := make(chan string, 1)
	s.On("msg", func(ev *ClientEvent) {
		var v string
		_ = ev.Arg(0, &v)
		msgs <- v
	})
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.JSONEq(t, `{"u":1}`, mtRecv(t, got, "connection"))
	require.NoError(t, s.Emit("msg", "x"))
	assert.Equal(t, "chat:x", mtRecv(t, msgs, "msg"))
	assert.False(t, m.Socket("/").Connected())
}

func TestManagerConnectRefused(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, func(io *Server) {
		io.Of("/private").Use(func(s *Socket) error {
			return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{})
	s := m.Socket("/private")
	err := s.Connect(mtCtx(t))
	var ce *ClientConnectError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "not authorized", ce.Message)
	assert.JSONEq(t, `{"code":401}`, string(ce.Data))
	assert.False(t, s.Connected())
	// Nothing goes on afterwards: the session is closed.
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.quietLocked()
	}, mtWait, 10*time.Millisecond)
}

// TestManagerConnectUnreachable: while the server cannot be reached,
// Connect goes on trying with the backoff, reporting each failure, until
// the attempts are spent or its context ends.
func TestManagerConnectUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	t.Run("attempts-spent", func(t *testing.T) {
		t.Parallel()
		m := mtManager(t, url, ManagerOptions{ReconnectionDelay: 10 * time.Millisecond, ReconnectionAttempts: 2})
		var connectErrors, managerErrors, reconnectErrors atomic.Int32
		var attempts []int
		failed := make(chan struct{})
		s := m.Socket("/")
		s.OnConnectError(func(ce *ClientConnectError) {
			assert.Equal(t, "xhr poll error", ce.Message)
			require.NotNil(t, ce.Context)
			assert.Equal(t, eio.ClientErrNetwork, ce.Context.Kind)
			connectErrors.Add(1)
		})
		m.OnError(func(error) { managerErrors.Add(1) })
		m.OnReconnectAttempt(func(n int) { attempts = append(attempts, n) })
		m.OnReconnectError(func(error) { reconnectErrors.Add(1) })
		m.OnReconnectFailed(func() { close(failed) })
		err := s.Connect(mtCtx(t))
		var ce *ClientConnectError
		require.ErrorAs(t, err, &ce)
		var ee *EngineError
		assert.True(t, errors.As(err, &ee), "%v", err)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		mtRecv(t, failed, "reconnect_failed")
		assert.Equal(t, []int{1, 2}, attempts)
		assert.EqualValues(t, 3, connectErrors.Load(), "the first open and two attempts")
		assert.EqualValues(t, 3, managerErrors.Load())
		assert.EqualValues(t, 2, reconnectErrors.Load())
		require.Eventually(t, func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.quietLocked()
		}, mtWait, 10*time.Millisecond)
	})
	t.Run("context", func(t *testing.T) {
		t.Parallel()
		m := mtManager(t, url, ManagerOptions{ReconnectionDelay: 10 * time.Millisecond, ReconnectionDelayMax: 20 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := m.Socket("/").Connect(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var ce *ClientConnectError
		require.ErrorAs(t, err, &ce, "the last failure comes with the context's error")
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.Eventually(t, func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.quietLocked()
		}, mtWait, 10*time.Millisecond)
	})
}

func TestManagerServerDisconnect(t *testing.T) {
	t.Parallel()
	socks := make(chan *Socket, 1)
	_, srv := mtServer(t, echoSetup(nil, socks))
	m := mtManager(t, srv.URL, ManagerOptions{ReconnectionDelay: 10 * time.Millisecond, ReconnectionDelayMax: 20 * time.Millisecond})
	s := m.Socket("/")
	reasons := make(chan string, 2)
	s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
	require.NoError(t, s.Connect(mtCtx(t)))
	ss := mtRecv(t, socks, "server socket")
	ss.Disconnect(false)
	assert.Equal(t, "io server disconnect", mtRecv(t, reasons, "disconnect"))
	assert.False(t, s.Connected())
	// No reconnection after a server disconnect.
	time.Sleep(100 * time.Millisecond)
	select {
	case <-socks:
		t.Fatal("reconnected after io server disconnect")
	default:
	}
	m.mu.Lock()
	assert.False(t, m.opened || m.opening)
	m.mu.Unlock()
}

func TestManagerClientDisconnect(t *testing.T) {
	t.Parallel()
	serverReasons := make(chan string, 1)
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.OnDisconnect(func(reason, _ string) { serverReasons <- reason })
		})
	})
	m := mtManager(t, srv.URL, ManagerOptions{})
	s := m.Socket("/")
	reasons := make(chan string, 1)
	s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
	require.NoError(t, s.Connect(mtCtx(t)))
	s.Disconnect()
	assert.Equal(t, "io client disconnect", mtRecv(t, reasons, "client disconnect"))
	assert.Equal(t, "client namespace disconnect", mtRecv(t, serverReasons, "server disconnect"))
	assert.False(t, s.Connected())
	// It can connect again.
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.True(t, s.Connected())
}

// TestManagerReconnect restarts the server (a new Server behind the same
// address; the old one closes its sessions) and checks the client
// reconnects and its namespace works again.
func TestManagerReconnect(t *testing.T) {
	t.Parallel()
	for _, transports := range [][]string{{"polling"}, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			socks := make(chan *Socket, 4)
			var cur atomic.Pointer[Server]
			start := func() *Server {
				io := NewServer(ServerOptions{})
				echoSetup(nil, socks)(io)
				t.Cleanup(io.Close)
				cur.Store(io)
				return io
			}
			old := start()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cur.Load().ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			m := mtManager(t, srv.URL, ManagerOptions{
				Transports:           transports,
				ReconnectionDelay:    10 * time.Millisecond,
				ReconnectionDelayMax: 50 * time.Millisecond,
			})
			s := m.Socket("/")
			reasons := make(chan string, 4)
			s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			echoes := make(chan string, 4)
			s.On("echo", func(ev *ClientEvent) {
				var v string
				_ = ev.Arg(0, &v)
				echoes <- v
			})
			require.NoError(t, s.Connect(mtCtx(t)))
			first := mtRecv(t, socks, "server socket")
			firstID := s.ID()

			start()
			old.Close()
			srv.CloseClientConnections()
			reason := mtRecv(t, reasons, "disconnect")
			assert.Contains(t, []string{"transport close", "transport error"}, reason)
			second := mtRecv(t, socks, "reconnected server socket")
			assert.NotEqual(t, first.ID(), second.ID())
			require.Eventually(t, s.Connected, mtWait, 5*time.Millisecond)
			assert.NotEqual(t, firstID, s.ID())
			require.NoError(t, s.Emit("echo", "again"))
			assert.Equal(t, "again", mtRecv(t, echoes, "echo after reconnect"))
		})
	}
}

func TestManagerEmitBufferedBeforeConnect(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, echoSetup(nil, nil))
	m := mtManager(t, srv.URL, ManagerOptions{})
	s := m.Socket("/")
	echoes := make(chan string, 1)
	s.On("echo", func(ev *ClientEvent) {
		var v string
		_ = ev.Arg(0, &v)
		echoes <- v
	})
	done := make(chan error, 1)
	go func() { done <- s.Connect(mtCtx(t)) }()
	// The emit may come before the CONNECT reply: it is buffered.
	require.Eventually(t, func() bool { return s.Emit("echo", "early") == nil }, mtWait, time.Millisecond)
	require.NoError(t, mtRecv(t, done, "connect"))
	assert.Equal(t, "early", mtRecv(t, echoes, "echo"))
}

// TestManagerNoGoroutineLeak: whatever a Manager went through, nothing of
// it runs once it is closed.
func TestManagerNoGoroutineLeak(t *testing.T) {
	var cur atomic.Pointer[Server]
	start := func() *Server {
		io := NewServer(ServerOptions{})
		echoSetup(nil, nil)(io)
		t.Cleanup(io.Close)
		cur.Store(io)
		return io
	}
	first := start()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.Load().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	session := func(opts ManagerOptions, during func(m *Manager, s *ClientSocket)) {
		opts.ReconnectionDelay, opts.ReconnectionDelayMax = 10*time.Millisecond, 20*time.Millisecond
		opts.Core = testClientCore(nil)
		m, err := NewManager(srv.URL, opts)
		require.NoError(t, err)
		s := m.Socket("/")
		echoes := make(chan struct{}, 1)
		s.On("echo", func(*ClientEvent) {
			select {
			case echoes <- struct{}{}:
			default: // a retried emit echoes again
			}
		})
		require.NoError(t, s.Connect(mtCtx(t)))
		require.NoError(t, s.Emit("echo", []byte{1}))
		mtRecv(t, echoes, "echo")
		_, err = s.Timeout(mtWait).EmitWithAck(mtCtx(t), "add", 1, 2)
		require.NoError(t, err)
		if during != nil {
			during(m, s)
		}
		require.NoError(t, m.Close())
	}
	session(ManagerOptions{}, nil) // warm-up: what stays for good is in the baseline
	base := ehStableGoroutines()

	for _, tr := range [][]string{{"polling"}, {"websocket"}, nil} {
		session(ManagerOptions{Transports: tr}, nil)
		session(ManagerOptions{Transports: tr}, func(m *Manager, s *ClientSocket) {
			old := cur.Load()
			start()
			old.Close()
			require.Eventually(t, func() bool { return m.Transport() != "" && s.Connected() }, mtWait, 5*time.Millisecond)
		})
		// The echo is not acked: it is sent three times, then given up.
		session(ManagerOptions{Transports: tr, Retries: 2, AckTimeout: 50 * time.Millisecond}, func(m *Manager, s *ClientSocket) {
			done := make(chan error, 2)
			for range 2 { // one sent, one queued behind it
				go func() {
					_, err := s.Timeout(time.Minute).EmitWithAck(context.Background(), "nothing")
					done <- err
				}()
			}
			time.Sleep(20 * time.Millisecond)
			require.NoError(t, m.Close())
			assert.ErrorIs(t, mtRecv(t, done, "ack error"), ErrManagerClosed)
			assert.ErrorIs(t, mtRecv(t, done, "ack error"), ErrManagerClosed)
		})
	}
	_ = first
	// Failed connects: refused by reconnection being off, and by a context.
	m, err := NewManager(srv.URL+"/x", ManagerOptions{Path: "/nowhere", NoReconnection: true, Core: testClientCore(nil)})
	require.NoError(t, err)
	require.Error(t, m.Socket("/").Connect(mtCtx(t)))
	require.NoError(t, m.Close())
	m, err = NewManager(srv.URL, ManagerOptions{Path: "/nowhere", ReconnectionDelay: 10 * time.Millisecond, Core: testClientCore(nil)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	require.Error(t, m.Socket("/").Connect(ctx))
	cancel()
	require.NoError(t, m.Close())

	waitGoroutines(t, base, mtWait)
}
