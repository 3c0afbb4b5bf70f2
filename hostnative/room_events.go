package hostnative

import "sync/atomic"

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

// roomHook holds a namespace's room-event handler.
type roomHook struct {
	fn atomic.Pointer[func(RoomEvent)]
}

// OnRoomEvent sets the handler told about every room created, deleted,
// joined or left in the namespace (the reference's adapter events). It
// runs after the change, on the goroutine that made it (a Join in an event
// handler, a disconnect…), outside the adapter's locks; a panic in it is
// recovered and logged.
func (ns *Namespace) OnRoomEvent(fn func(RoomEvent)) { ns.rooms.fn.Store(&fn) }

// watched reports whether anyone listens, so that adapters collect events
// only then.
func (h *roomHook) watched() bool { return h.fn.Load() != nil }

// emitRoomEvents hands the events an adapter collected to the handler.
func (ns *Namespace) emitRoomEvents(events []RoomEvent) {
	fn := ns.rooms.fn.Load()
	if fn == nil {
		return
	}
	for _, ev := range events {
		ns.server.engine.safely(func() { (*fn)(ev) })
	}
}
