package hostnative

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The adapter's room events, as a server sees two Go clients come, join a
// room and go.
func TestRoomEvents(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []RoomEvent
	left := make(chan struct{}, 4)
	_, srv := mtServer(t, func(io *Server) {
		io.Of("/").OnRoomEvent(func(ev RoomEvent) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
			if ev.Kind == RoomDeleted {
				left <- struct{}{}
			}
			if ev.Room == "panic" {
				panic("a room handler panics")
			}
		})
		io.OnConnection(func(s *Socket) {
			s.On("join", func(ev *Event) {
				var room string
				_ = ev.Arg(0, &room)
				s.Join(room)
				_ = ev.Ack()
			})
			s.On("leave", func(ev *Event) {
				var room string
				_ = ev.Arg(0, &room)
				s.Leave(room)
				_ = ev.Ack()
			})
		})
	})
	take := func() []RoomEvent {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	a := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true}).Socket("/")
	b := mtManager(t, srv.URL, ManagerOptions{NoReconnection: true}).Socket("/")
	require.NoError(t, a.Connect(mtCtx(t)))
	assert.Equal(t, []RoomEvent{{RoomCreated, a.ID(), ""}, {RoomJoined, a.ID(), a.ID()}}, take())

	_, err := a.EmitWithAck(mtCtx(t), "join", "r")
	require.NoError(t, err)
	_, err = a.EmitWithAck(mtCtx(t), "join", "r") // already in: nothing
	require.NoError(t, err)
	assert.Equal(t, []RoomEvent{{RoomCreated, "r", ""}, {RoomJoined, "r", a.ID()}}, take())

	require.NoError(t, b.Connect(mtCtx(t)))
	_, err = b.EmitWithAck(mtCtx(t), "join", "r")
	require.NoError(t, err)
	assert.Equal(t, []RoomEvent{{RoomCreated, b.ID(), ""}, {RoomJoined, b.ID(), b.ID()}, {RoomJoined, "r", b.ID()}}, take())

	_, err = b.EmitWithAck(mtCtx(t), "leave", "r")
	require.NoError(t, err)
	assert.Equal(t, []RoomEvent{{RoomLeft, "r", b.ID()}}, take())

	// A panicking handler is logged; the join still happens and b goes on.
	_, err = b.EmitWithAck(mtCtx(t), "join", "panic")
	require.NoError(t, err)
	assert.Len(t, take(), 2)

	id := a.ID()
	a.Disconnect()
	mtRecv(t, left, "delete-room")
	mtRecv(t, left, "delete-room")
	assert.ElementsMatch(t, []RoomEvent{
		{RoomLeft, id, id}, {RoomDeleted, id, ""}, {RoomLeft, "r", id}, {RoomDeleted, "r", ""},
	}, take())
	assert.Equal(t, "join-room", RoomJoined.String())
}

// Room events reach the handler in the adapter's order even when several
// goroutines change one room at once: replaying them never joins a room
// that does not exist, nor deletes one that has members.
func TestRoomEventsOrder(t *testing.T) {
	t.Parallel()
	io := NewServer(ServerOptions{})
	t.Cleanup(io.Close)
	ns := io.Of("/order")
	members := map[string]map[string]bool{} // the handler's replay; one event at a time
	var bad []RoomEvent
	var n int
	ns.OnRoomEvent(func(ev RoomEvent) {
		n++
		switch ev.Kind {
		case RoomCreated:
			if members[ev.Room] != nil {
				bad = append(bad, ev)
			}
			members[ev.Room] = map[string]bool{}
		case RoomJoined:
			if members[ev.Room] == nil {
				bad = append(bad, ev)
				return
			}
			members[ev.Room][ev.ID] = true
		case RoomLeft:
			delete(members[ev.Room], ev.ID)
		case RoomDeleted:
			if len(members[ev.Room]) != 0 {
				bad = append(bad, ev)
			}
			delete(members, ev.Room)
		}
	})
	a := ns.Adapter()
	var wg sync.WaitGroup
	for _, id := range []string{"x", "y", "z"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3000 {
				a.AddAll(id, []string{"r"})
				a.Del(id, "r")
			}
		}()
	}
	wg.Wait()
	ns.drainRoomEvents() // nothing left behind
	assert.Empty(t, bad, "events out of the adapter's order")
	assert.Empty(t, members, "every room created was deleted")
	assert.GreaterOrEqual(t, n, 3*3000*2)
}
