package hostnative

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ClientSocket.Active follows Connect, a refusal and Disconnect;
// OnAnyOutgoing sees the emits with Go values until OffAnyOutgoing.
func TestClientSocketActiveAndOutgoing(t *testing.T) {
	t.Parallel()
	_, srv := mtServer(t, func(io *Server) {
		io.OnConnection(func(s *Socket) {
			s.On("add", func(ev *Event) { _ = ev.Ack(1) })
		})
		io.Of("/closed").Use(func(*Socket) error { return &ConnectError{Message: "no"} })
	})
	m := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true})
	s := m.Socket("/")
	assert.False(t, s.Active())
	require.NoError(t, s.Connect(mtCtx(t)))
	assert.True(t, s.Active())

	type out struct {
		event string
		args  []any
	}
	outs := make(chan out, 4)
	s.OnAnyOutgoing(func(event string, args []any) { outs <- out{event, args} })
	require.NoError(t, s.Emit("hello", "a", 1))
	assert.Equal(t, out{"hello", []any{"a", 1}}, mtRecv(t, outs, "outgoing"))
	_, err := s.EmitWithAck(mtCtx(t), "add", 2)
	require.NoError(t, err)
	assert.Equal(t, out{"add", []any{2}}, mtRecv(t, outs, "outgoing"))
	s.OffAnyOutgoing()
	require.NoError(t, s.Emit("quiet"))
	assert.Empty(t, outs)

	s.Disconnect()
	assert.False(t, s.Active())

	refused := m.Socket("/closed")
	require.Error(t, refused.Connect(mtCtx(t)))
	assert.False(t, refused.Active(), "a refusal ends it")
}
