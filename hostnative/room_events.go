package hostnative

import (
	"sync"
	"sync/atomic"
)

// RoomEvent is one change to the rooms of a namespace, as the reference's
// adapter reports it: "create-room" and "delete-room" (ID empty), and
// "join-room" and "leave-room" for socket ID. Each socket's own room (its
// id) counts too.
type RoomEvent struct {
	Kind RoomEventKind
	Room string
	ID   string
}

// RoomEventKind names a RoomEvent.
type RoomEventKind uint8

const (
	RoomCreated RoomEventKind = iota + 1 // "create-room"
	RoomDeleted                          // "delete-room"
	RoomJoined                           // "join-room"
	RoomLeft                             // "leave-room"
)

var roomEventNames = [...]string{"", "create-room", "delete-room", "join-room", "leave-room"}

// String returns the reference's name of the event.
func (k RoomEventKind) String() string {
	if int(k) < len(roomEventNames) {
		return roomEventNames[k]
	}
	return "unknown"
}

// roomHook holds a namespace's room-event handler and the events not yet
// handed to it: an adapter queues them under its own lock, in the order of
// its changes, and one goroutine at a time hands them over, so the handler
// sees them in that order whichever goroutines made the changes.
type roomHook struct {
	fn atomic.Pointer[func(RoomEvent)]

	mu       sync.Mutex
	queue    []RoomEvent
	draining bool
}

// OnRoomEvent sets the handler told about every room created, deleted,
// joined or left in the namespace (the reference's adapter events), in the
// order the adapter made the changes. It runs after the change, outside
// the adapter's locks, one event at a time: on the goroutine that made the
// change (a Join in an event handler, a disconnect…), or on another one
// that is handing over earlier events. A panic in it is recovered and
// logged.
func (ns *Namespace) OnRoomEvent(fn func(RoomEvent)) { ns.rooms.fn.Store(&fn) }

// watched reports whether anyone listens, so that adapters queue events
// only then.
func (h *roomHook) watched() bool { return h.fn.Load() != nil }

// push queues an event; the adapter calls it under its lock, which orders
// the events.
func (h *roomHook) push(ev RoomEvent) {
	h.mu.Lock()
	h.queue = append(h.queue, ev)
	h.mu.Unlock()
}

// drainRoomEvents hands the queued events to the handler, unless another
// goroutine is doing so (it then hands over these too).
func (ns *Namespace) drainRoomEvents() {
	h := &ns.rooms
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		return
	}
	h.draining = true
	for len(h.queue) > 0 {
		ev := h.queue[0]
		h.queue = h.queue[1:]
		h.mu.Unlock()
		if fn := h.fn.Load(); fn != nil {
			ns.server.engine.safely(func() { (*fn)(ev) })
		}
		h.mu.Lock()
	}
	h.queue, h.draining = nil, false
	h.mu.Unlock()
}
