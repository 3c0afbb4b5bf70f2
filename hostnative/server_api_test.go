package hostnative

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OnNewNamespace sees namespaces made by Of and dynamic children; a
// socket's Except leaves out the sender and the rooms; OffAny and
// OffAnyOutgoing remove the catch-all handlers.
func TestServerNewNamespaceExceptOffAny(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var created []string
	anyIn, anyOut := make(chan string, 8), make(chan string, 8)
	io, srv := mtServer(t, func(io *Server) {
		io.OnNewNamespace(func(ns *Namespace) {
			mu.Lock()
			created = append(created, ns.Name())
			mu.Unlock()
		})
		io.Of("/static")
		io.Of("/static") // exists: not new
		io.OfRegexp(regexp.MustCompile(`^/room-\d+$`)).OnConnection(func(*Socket) {})
		io.OnConnection(func(s *Socket) {
			s.OnAny(func(ev *Event) { anyIn <- ev.Name })
			s.OnAnyOutgoing(func(event string, _ []any) { anyOut <- event })
			s.On("join", func(ev *Event) {
				var room string
				_ = ev.Arg(0, &room)
				s.Join(room)
				_ = ev.Ack()
			})
			s.On("shout", func(ev *Event) {
				_ = s.Except("quiet").Emit("shouted")
				_ = s.Emit("echoed")
				_ = ev.Ack()
			})
			s.On("off", func(ev *Event) {
				s.OffAny()
				s.OffAnyOutgoing()
				_ = s.Emit("after-off")
				_ = ev.Ack()
			})
		})
	})
	dyn := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true}).Socket("/room-7")
	require.NoError(t, dyn.Connect(mtCtx(t)))
	mu.Lock()
	assert.Equal(t, []string{"/static", "/room-7"}, created)
	mu.Unlock()

	shouted := make(chan int, 4)
	cs := make([]*ClientSocket, 3)
	for i := range cs {
		cs[i] = mtManager(t, srv.URL, ManagerOptions{NoReconnection: true}).Socket("/")
		cs[i].On("shouted", func(*ClientEvent) { shouted <- i })
		require.NoError(t, cs[i].Connect(mtCtx(t)))
	}
	_, err := cs[2].EmitWithAck(mtCtx(t), "join", "quiet")
	require.NoError(t, err)
	assert.Equal(t, "join", mtRecv(t, anyIn, "any"))
	_, err = cs[0].EmitWithAck(mtCtx(t), "shout")
	require.NoError(t, err)
	assert.Equal(t, 1, mtRecv(t, shouted, "shouted"), "not the sender, not the quiet room")
	assert.Equal(t, "shout", mtRecv(t, anyIn, "any"))
	assert.Equal(t, "echoed", mtRecv(t, anyOut, "any outgoing"), "a socket's own emit, not the broadcast")

	_, err = cs[1].EmitWithAck(mtCtx(t), "off")
	require.NoError(t, err)
	assert.Equal(t, "off", mtRecv(t, anyIn, "any"), "the event that turned them off")
	_, err = cs[1].EmitWithAck(mtCtx(t), "join", "x")
	require.NoError(t, err)
	select {
	case got := <-anyIn:
		t.Fatalf("OnAny after OffAny: %s", got)
	case got := <-anyOut:
		t.Fatalf("OnAnyOutgoing after OffAnyOutgoing: %s", got)
	case got := <-shouted:
		t.Fatalf("shouted twice: %d", got)
	case <-time.After(100 * time.Millisecond):
	}
	assert.Len(t, io.Sockets(), 3)
}
