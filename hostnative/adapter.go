package hostnative

import (
	"sync"

	"github.com/siohost/siohost/core/sio"
)

// BroadcastOptions selects the sockets of a namespace that a broadcast or a
// bulk operation applies to: those in any of Rooms (every socket when
// empty), minus those in any of Except.
type BroadcastOptions struct {
	Rooms    []string
	Except   []string
	Local    bool // this server only, when several are clustered
	Volatile bool
	// NoCompress is the reference's compress(false) flag: the packet is
	// never compressed (see Emitter.Compress).
	NoCompress bool
}

// flags are the core's options for a packet sent with opts.
func (opts BroadcastOptions) flags() sio.SendFlags { return sendFlags(opts.Volatile, opts.NoCompress) }

// Adapter keeps the rooms of a namespace and carries broadcasts to their
// sockets. The in-memory adapter serves a single server; a clustered one
// (Redis, …) also forwards operations to the other servers, as the
// reference's ClusterAdapter does. Methods are called concurrently.
type Adapter interface {
	// AddAll puts socket id in rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of socket id.
	SocketRooms(id string) []string
	// Rooms returns every room that has at least one socket.
	Rooms() []string
	// Sockets returns the ids of the sockets that opts selects.
	Sockets(opts BroadcastOptions) []string
	// Broadcast delivers an encoded packet to the sockets opts selects.
	Broadcast(p *EncodedPacket, opts BroadcastOptions)
	// BroadcastWithAck is Broadcast for a packet that awaits acks; it
	// returns how many sockets it was sent to.
	BroadcastWithAck(p *EncodedPacket, opts BroadcastOptions) int
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the selected sockets.
	DisconnectSockets(opts BroadcastOptions, close bool)
	// ServerCount is the number of servers in the cluster.
	ServerCount() int
	// Close releases the adapter.
	Close()
}

// MemoryAdapter is the default, single-server Adapter.
type MemoryAdapter struct {
	ns    *Namespace
	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room -> socket ids
	sids  map[string]map[string]struct{} // socket id -> rooms
}

// NewMemoryAdapter returns the in-memory adapter of ns.
func NewMemoryAdapter(ns *Namespace) Adapter {
	return &MemoryAdapter{ns: ns, rooms: make(map[string]map[string]struct{}), sids: make(map[string]map[string]struct{})}
}

func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	h := &a.ns.rooms
	watched := h.watched()
	a.mu.Lock()
	mine := a.sids[id]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.sids[id] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			a.rooms[r] = members
			if watched {
				h.push(RoomEvent{Kind: RoomCreated, Room: r})
			}
		}
		if _, in := members[id]; !in {
			members[id] = struct{}{}
			if watched {
				h.push(RoomEvent{Kind: RoomJoined, Room: r, ID: id})
			}
		}
	}
	a.mu.Unlock()
	if watched {
		a.ns.drainRoomEvents()
	}
}

func (a *MemoryAdapter) Del(id, room string) {
	watched := a.ns.rooms.watched()
	a.mu.Lock()
	if mine := a.sids[id]; mine != nil {
		delete(mine, room)
	}
	a.leave(id, room, watched)
	a.mu.Unlock()
	if watched {
		a.ns.drainRoomEvents()
	}
}

// leave takes id out of room, dropping the room once empty, and queues the
// events when someone listens. a.mu is held.
func (a *MemoryAdapter) leave(id, room string, watched bool) {
	members := a.rooms[room]
	if members == nil {
		return
	}
	_, in := members[id]
	delete(members, id)
	if in && watched {
		a.ns.rooms.push(RoomEvent{Kind: RoomLeft, Room: room, ID: id})
	}
	if len(members) == 0 {
		delete(a.rooms, room)
		if watched {
			a.ns.rooms.push(RoomEvent{Kind: RoomDeleted, Room: room})
		}
	}
}

func (a *MemoryAdapter) DelAll(id string) {
	watched := a.ns.rooms.watched()
	a.mu.Lock()
	for r := range a.sids[id] {
		a.leave(id, r, watched)
	}
	delete(a.sids, id)
	a.mu.Unlock()
	if watched {
		a.ns.drainRoomEvents()
	}
}

func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.sids[id]))
	for r := range a.sids[id] {
		out = append(out, r)
	}
	return out
}

func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

func (a *MemoryAdapter) Sockets(opts BroadcastOptions) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.selectLocked(opts)
}

// selectLocked resolves opts to socket ids, each once.
func (a *MemoryAdapter) selectLocked(opts BroadcastOptions) []string {
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if _, in := a.rooms[r][id]; in {
				return true
			}
		}
		return false
	}
	var out []string
	if len(opts.Rooms) == 0 {
		out = make([]string, 0, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	if len(opts.Rooms) == 1 {
		members := a.rooms[opts.Rooms[0]]
		out = make([]string, 0, len(members))
		for id := range members {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	seen := make(map[string]struct{})
	for _, r := range opts.Rooms {
		for id := range a.rooms[r] {
			if _, dup := seen[id]; dup || excluded(id) {
				continue
			}
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

func (a *MemoryAdapter) Broadcast(p *EncodedPacket, opts BroadcastOptions) {
	a.ns.deliver(a.Sockets(opts), p, opts.flags())
}

func (a *MemoryAdapter) BroadcastWithAck(p *EncodedPacket, opts BroadcastOptions) int {
	return a.ns.deliver(a.Sockets(opts), p, opts.flags())
}

func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	for _, id := range a.Sockets(opts) {
		a.AddAll(id, rooms)
	}
}

func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	for _, id := range a.Sockets(opts) {
		for _, r := range rooms {
			a.Del(id, r)
		}
	}
}

func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, close bool) {
	for _, id := range a.Sockets(opts) {
		if s := a.ns.socket(id); s != nil {
			s.Disconnect(close)
		}
	}
}

func (a *MemoryAdapter) ServerCount() int { return 1 }

func (a *MemoryAdapter) Close() {}
