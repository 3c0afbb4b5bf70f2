package hostnative

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Server's broadcast shortcuts act on "/", seen from three Go clients.
func TestServerShortcuts(t *testing.T) {
	t.Parallel()
	io, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.On("join", func(ev *Event) {
				var room string
				_ = ev.Arg(0, &room)
				s.Join(room)
				_ = ev.Ack()
			})
		})
		io.Of("/other").OnConnection(func(*Socket) {})
	})
	const n = 3
	type got struct {
		client int
		event  string
	}
	events := make(chan got, 64)
	discs := make(chan string, n)
	clients := make([]*ClientSocket, n)
	for i := range clients {
		m := mtManager(t, srv.URL, ManagerOptions{Transports: []string{"websocket"}, NoReconnection: true})
		s := m.Socket("/")
		for _, ev := range []string{"to-a", "except-a", "local", "volatile", "all"} {
			s.On(ev, func(*ClientEvent) { events <- got{i, ev} })
		}
		s.On("ask", func(ev *ClientEvent) { _ = ev.Ack("ok-" + strconv.Itoa(i)) })
		s.OnDisconnect(func(reason string, _ *DisconnectDetails) { discs <- reason })
		require.NoError(t, s.Connect(mtCtx(t)))
		clients[i] = s
	}
	// A socket on another namespace is never selected by the shortcuts.
	other := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true}).Socket("/other")
	require.NoError(t, other.Connect(mtCtx(t)))

	_, err := clients[0].EmitWithAck(mtCtx(t), "join", "a")
	require.NoError(t, err)
	assert.Len(t, io.Sockets(), n)
	assert.Len(t, io.FetchSockets(), n)
	assert.Len(t, io.In("a").FetchSockets(), 1)

	expect := func(event string, want ...int) {
		t.Helper()
		var clientsGot []int
		for range want {
			g := mtRecv(t, events, event)
			assert.Equal(t, event, g.event)
			clientsGot = append(clientsGot, g.client)
		}
		sort.Ints(clientsGot)
		assert.Equal(t, want, clientsGot, event)
	}
	require.NoError(t, io.To("a").Emit("to-a"))
	expect("to-a", 0)
	require.NoError(t, io.Except("a").Emit("except-a"))
	expect("except-a", 1, 2)
	require.NoError(t, io.Local().Emit("local"))
	expect("local", 0, 1, 2)
	require.NoError(t, io.Volatile().Emit("volatile"))
	expect("volatile", 0, 1, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acks, err := io.Timeout(2*time.Second).EmitWithAck(ctx, "ask")
	require.NoError(t, err)
	var answers []string
	for _, a := range acks {
		var s string
		require.NoError(t, a.Arg(0, &s))
		answers = append(answers, s)
	}
	sort.Strings(answers)
	assert.Equal(t, []string{"ok-0", "ok-1", "ok-2"}, answers)

	io.SocketsJoin("b")
	assert.Len(t, io.In("b").FetchSockets(), n)
	io.SocketsLeave("b")
	assert.Empty(t, io.In("b").FetchSockets())

	io.DisconnectSockets(false)
	for range n {
		assert.Equal(t, "io server disconnect", mtRecv(t, discs, "disconnect"))
	}
	assert.True(t, other.Connected(), "the other namespace keeps its socket")
	require.NoError(t, io.Emit("all"))
	select {
	case g := <-events:
		t.Fatalf("a disconnected socket got %v", g)
	case <-time.After(100 * time.Millisecond):
	}
}
