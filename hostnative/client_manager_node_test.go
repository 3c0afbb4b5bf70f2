package hostnative

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Go client against the official Node servers: socket.io 4.8
// (testdata/interop/sio_server.js) and socket.io 2.5 over Engine.IO v3
// (sio2_server.js).

// startNodeSIO runs testdata/interop/sio_server.js (the official socket.io
// 4.8 server) until the test ends; its events are read as nodeEngine's.
func startNodeSIO(t *testing.T) *nodeEngine {
	t.Helper()
	return startNodeServer(t, "sio_server.js")
}

// TestManagerNode drives the client against the official socket.io 4.8
// server: auth, echo with binary, acks both ways, a custom namespace, a
// refusal with data, and disconnects from either side.
func TestManagerNode(t *testing.T) {
	t.Parallel()
	node := startNodeSIO(t)
	for _, transports := range [][]string{nil, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			m := mtManager(t, node.url, ManagerOptions{Transports: transports, Auth: map[string]any{"token": "abc"}})
			s := m.Socket("/")
			echoes := make(chan *ClientEvent, 4)
			s.On("echo", func(ev *ClientEvent) { echoes <- ev })
			s.On("ask", func(ev *ClientEvent) {
				var n int
				_ = ev.Arg(0, &n)
				_ = ev.Ack(n*2, "ok")
			})
			reasons := make(chan string, 2)
			s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			require.NoError(t, s.Connect(mtCtx(t)))
			ev := node.waitEvent(t, "connect", s.ID())
			assert.Equal(t, map[string]any{"token": "abc"}, ev["auth"])
			assert.Equal(t, []any{float64(42), "ok"}, node.waitEvent(t, "ackFrom", s.ID())["args"])

			require.NoError(t, s.Emit("echo", "hi", []byte{7, 8}))
			e := mtRecv(t, echoes, "echo")
			var str string
			var bin []byte
			require.NoError(t, e.Arg(0, &str))
			require.NoError(t, e.Arg(1, &bin))
			assert.Equal(t, "hi", str)
			assert.Equal(t, []byte{7, 8}, bin)

			resp, err := s.EmitWithAck(mtCtx(t), "add", 2, 3)
			require.NoError(t, err)
			var sum int
			require.NoError(t, resp.Arg(0, &sum))
			assert.Equal(t, 5, sum)

			chat := m.Socket("/chat")
			require.NoError(t, chat.Connect(mtCtx(t)))
			assert.Equal(t, "/chat", node.waitEvent(t, "connect", chat.ID())["nsp"])
			chatReasons := make(chan string, 1)
			chat.OnDisconnect(func(reason string, _ *DisconnectDetails) { chatReasons <- reason })
			require.NoError(t, chat.Emit("kick"))
			assert.Equal(t, "io server disconnect", mtRecv(t, chatReasons, "chat disconnect"))

			id := s.ID()
			s.Disconnect()
			assert.Equal(t, "io client disconnect", mtRecv(t, reasons, "disconnect"))
			assert.Equal(t, "client namespace disconnect", node.waitEvent(t, "disconnect", id)["reason"])

			bad := mtManager(t, node.url, ManagerOptions{Transports: transports, Auth: json.RawMessage(`{"token":"bad"}`)})
			err = bad.Socket("/").Connect(mtCtx(t))
			var ce *ClientConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)
			assert.JSONEq(t, `{"code":401}`, string(ce.Data))
		})
	}
}

// startNodeSIOWith runs sio_server.js with options (port, pingInterval,
// pingTimeout, recovery).
func startNodeSIOWith(t *testing.T, opts map[string]any) *nodeEngine {
	t.Helper()
	js, err := json.Marshal(opts)
	require.NoError(t, err)
	return startNodeServer(t, "sio_server.js", string(js))
}

// TestManagerNodeMultiplex: two namespaces share one Engine.IO session,
// which starts on polling and upgrades; an ack the server never sends
// times out.
func TestManagerNodeMultiplex(t *testing.T) {
	t.Parallel()
	node := startNodeSIO(t)
	m := mtManager(t, node.url, ManagerOptions{})
	upgrades := make(chan string, 1)
	m.OnUpgrade(func(tr string) { upgrades <- tr })
	root, chat := m.Socket("/"), m.Socket("/chat")
	require.NoError(t, root.Connect(mtCtx(t)))
	require.NoError(t, chat.Connect(mtCtx(t)))
	e1 := node.waitEvent(t, "connect", root.ID())
	e2 := node.waitEvent(t, "connect", chat.ID())
	assert.Equal(t, e1["engine"], e2["engine"], "one Engine.IO session")
	assert.Equal(t, "websocket", mtRecv(t, upgrades, "upgrade"))
	assert.Equal(t, "websocket", root.Transport())

	echoes := make(chan *ClientEvent, 1)
	chat.On("echo", func(ev *ClientEvent) { echoes <- ev })
	require.NoError(t, chat.Emit("echo", []byte{0, 1, 2, 255}, "text"))
	ev := mtRecv(t, echoes, "echo on /chat")
	var bin []byte
	require.NoError(t, ev.Arg(0, &bin))
	assert.Equal(t, []byte{0, 1, 2, 255}, bin)

	_, err := root.Timeout(100*time.Millisecond).EmitWithAck(mtCtx(t), "noack")
	assert.ErrorIs(t, err, ErrAckTimeout)
	resp, err := chat.Timeout(time.Second).EmitWithAck(mtCtx(t), "add", 20, 22)
	require.NoError(t, err)
	var sum int
	require.NoError(t, resp.Arg(0, &sum))
	assert.Equal(t, 42, sum)
}

// TestManagerNodeServerDisconnect: the server disconnects the only
// namespace: "io server disconnect", and no reconnection.
func TestManagerNodeServerDisconnect(t *testing.T) {
	t.Parallel()
	node := startNodeSIO(t)
	m := mtManager(t, node.url, ManagerOptions{ReconnectionDelay: 10 * time.Millisecond})
	var attempts atomic.Int32
	m.OnReconnectAttempt(func(int) { attempts.Add(1) })
	s := m.Socket("/")
	reasons := make(chan string, 2)
	s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
	require.NoError(t, s.Connect(mtCtx(t)))
	id := s.ID()
	require.NoError(t, s.Emit("kick"))
	assert.Equal(t, "io server disconnect", mtRecv(t, reasons, "disconnect"))
	assert.Equal(t, "server namespace disconnect", node.waitEvent(t, "disconnect", id)["reason"])
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return !m.opened && !m.opening
	}, mtWait, 10*time.Millisecond, "the session closes with its last namespace")
	time.Sleep(100 * time.Millisecond) // ten reconnection delays
	assert.Zero(t, attempts.Load())
	assert.False(t, s.Connected())
}

// TestManagerNodeRestart: the server is killed ("transport close"), the
// Manager tries again with its backoff while it is down, and reconnects
// once it is back on the same port.
func TestManagerNodeRestart(t *testing.T) {
	t.Parallel()
	node := startNodeSIO(t)
	var port int
	_, err := fmt.Sscanf(node.url, "http://127.0.0.1:%d", &port)
	require.NoError(t, err)
	m := mtManager(t, node.url, ManagerOptions{Transports: []string{"websocket"}, ReconnectionDelay: 50 * time.Millisecond, ReconnectionDelayMax: 200 * time.Millisecond})
	attempts := make(chan int, 64)
	m.OnReconnectAttempt(func(n int) { attempts <- n })
	reconnected := make(chan int, 1)
	m.OnReconnect(func(n int) { reconnected <- n })
	s := m.Socket("/")
	type disc struct {
		reason  string
		details *DisconnectDetails
	}
	discs := make(chan disc, 2)
	s.OnDisconnect(func(reason string, d *DisconnectDetails) { discs <- disc{reason, d} })
	connectErrs := make(chan *ClientConnectError, 64)
	s.OnConnectError(func(ce *ClientConnectError) { connectErrs <- ce })
	require.NoError(t, s.Connect(mtCtx(t)))
	first := s.ID()

	node.kill(t)
	d := mtRecv(t, discs, "disconnect")
	assert.Equal(t, "transport close", d.reason)
	require.NotNil(t, d.details)
	assert.NotEmpty(t, d.details.Description)
	assert.Equal(t, 1, mtRecv(t, attempts, "attempt 1"))
	assert.Equal(t, 2, mtRecv(t, attempts, "attempt 2"))
	ce := mtRecv(t, connectErrs, "connect_error while down")
	assert.Equal(t, "websocket error", ce.Message)
	assert.ErrorIs(t, ce, syscall.ECONNREFUSED)

	startNodeSIOWith(t, map[string]any{"port": port})
	n := mtRecv(t, reconnected, "reconnect")
	assert.GreaterOrEqual(t, n, 2)
	require.Eventually(t, s.Connected, mtWait, 5*time.Millisecond)
	assert.NotEqual(t, first, s.ID())
}

// TestManagerNodePingTimeout: the server stops answering (SIGSTOP): the
// client notices at pingInterval + pingTimeout, and reconnects once the
// server runs again.
func TestManagerNodePingTimeout(t *testing.T) {
	t.Parallel()
	node := startNodeSIOWith(t, map[string]any{"pingInterval": 200, "pingTimeout": 300})
	t.Cleanup(func() { _ = node.cmd.Process.Signal(syscall.SIGCONT) })
	m := mtManager(t, node.url, ManagerOptions{ReconnectionDelay: 50 * time.Millisecond, ReconnectionDelayMax: 100 * time.Millisecond, Timeout: 500 * time.Millisecond})
	s := m.Socket("/")
	reasons := make(chan string, 4)
	s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
	require.NoError(t, s.Connect(mtCtx(t)))
	require.NoError(t, node.cmd.Process.Signal(syscall.SIGSTOP))
	assert.Equal(t, "ping timeout", mtRecv(t, reasons, "disconnect"))
	require.NoError(t, node.cmd.Process.Signal(syscall.SIGCONT))
	require.Eventually(t, s.Connected, mtWait, 10*time.Millisecond)
}

// TestManagerNodeRecovery: with connectionStateRecovery on the server, a
// dropped transport is recovered: the same id, Recovered, and the events
// broadcast meanwhile delivered.
func TestManagerNodeRecovery(t *testing.T) {
	t.Parallel()
	node := startNodeSIOWith(t, map[string]any{"recovery": true})
	m := mtManager(t, node.url, ManagerOptions{ReconnectionDelay: 100 * time.Millisecond, ReconnectionDelayMax: 200 * time.Millisecond})
	s := m.Socket("/")
	got := make(chan string, 8)
	s.On("before", func(*ClientEvent) { got <- "before" })
	s.On("missed", func(ev *ClientEvent) {
		var n int
		_ = ev.Arg(0, &n)
		got <- fmt.Sprint("missed ", n)
	})
	reasons := make(chan string, 2)
	s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
	connects := make(chan bool, 2)
	s.OnConnect(func() { connects <- s.Recovered() })
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.False(t, mtRecv(t, connects, "connect"))
	id := s.ID()
	require.NoError(t, s.Emit("drop"))
	assert.Equal(t, "before", mtRecv(t, got, "before"))
	assert.Equal(t, "transport close", mtRecv(t, reasons, "disconnect"))
	assert.True(t, mtRecv(t, connects, "reconnect"), "recovered")
	assert.True(t, s.Recovered())
	assert.Equal(t, id, s.ID())
	for i := 1; i <= 3; i++ {
		assert.Equal(t, fmt.Sprint("missed ", i), mtRecv(t, got, "missed event"))
	}
}

// TestManagerNodeV2 drives the client in its Engine.IO v3 mode against the
// official socket.io 2.5 server: the query as the auth of "/", events
// with binary, acks both ways, a second namespace, a refusal, and a
// server-side disconnect.
func TestManagerNodeV2(t *testing.T) {
	t.Parallel()
	node := startNodeServer(t, "sio2_server.js")
	for _, transports := range [][]string{nil, {"polling"}, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			m := mtManager(t, node.url, ManagerOptions{Protocol: 3, Transports: transports, Query: url.Values{"token": {"abc"}}})
			s := m.Socket("/")
			s.On("ask", func(ev *ClientEvent) {
				var n int
				_ = ev.Arg(0, &n)
				_ = ev.Ack(n * 2)
			})
			echoes := make(chan *ClientEvent, 1)
			s.On("echo", func(ev *ClientEvent) { echoes <- ev })
			require.NoError(t, s.Connect(mtCtx(t)))
			ev := node.waitEvent(t, "connect", s.ID())
			assert.Equal(t, "abc", ev["query"].(map[string]any)["token"])
			assert.Equal(t, []any{float64(42)}, node.waitEvent(t, "ackFrom", s.ID())["args"])

			require.NoError(t, s.Emit("echo", "hi", []byte{9, 8, 7}))
			e := mtRecv(t, echoes, "echo")
			var str string
			var bin []byte
			require.NoError(t, e.Arg(0, &str))
			require.NoError(t, e.Arg(1, &bin))
			assert.Equal(t, "hi", str)
			assert.Equal(t, []byte{9, 8, 7}, bin)
			resp, err := s.Timeout(mtWait).EmitWithAck(mtCtx(t), "add", 1, 2)
			require.NoError(t, err)
			var sum int
			require.NoError(t, resp.Arg(0, &sum))
			assert.Equal(t, 3, sum)

			chat := m.Socket("/chat")
			require.NoError(t, chat.Connect(mtCtx(t)))
			assert.Equal(t, "/chat", node.waitEvent(t, "connect", chat.ID())["nsp"])
			assert.Equal(t, "/chat#"+s.ID(), chat.ID(), "socket.io 2 ids are the namespace and the engine's")

			err = m.Socket("/private").Connect(mtCtx(t))
			var ce *ClientConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)

			reasons := make(chan string, 1)
			chat.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			require.NoError(t, chat.Emit("kick"))
			assert.Equal(t, "io server disconnect", mtRecv(t, reasons, "disconnect"))
			assert.True(t, s.Connected(), "the other namespace stays")
		})
	}
}
