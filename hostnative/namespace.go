package hostnative

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Namespace is a Socket.IO namespace: its sockets, connection middleware,
// connection handler and adapter (rooms).
type Namespace struct {
	server  *Server
	name    string
	parent  *ParentNamespace
	adapter Adapter
	ackIDs  atomic.Int64
	saved   *sessionStore // connection state recovery, when on
	rooms   roomHook      // OnRoomEvent

	mu      sync.RWMutex
	sockets map[string]*Socket
	mws     []func(*Socket) error
	onConn  func(*Socket)
	removed bool // a dynamic namespace that was cleaned up (guarded by server.mu)
}

func newNamespace(s *Server, name string, parent *ParentNamespace) *Namespace {
	ns := &Namespace{server: s, name: name, parent: parent, sockets: make(map[string]*Socket)}
	ns.adapter = s.opts.Adapter(ns)
	ns.saved = newSessionStore(s.opts.ConnectionStateRecovery)
	return ns
}

// Name returns the namespace's name, e.g. "/" or "/admin".
func (ns *Namespace) Name() string { return ns.name }

// Adapter returns the namespace's adapter.
func (ns *Namespace) Adapter() Adapter { return ns.adapter }

// Use adds a connection middleware. Middleware runs in order before the
// connection handler; an error refuses the connection, and the client's
// connect_error carries its message (and Data, for a *ConnectError).
func (ns *Namespace) Use(mw func(*Socket) error) {
	ns.mu.Lock()
	ns.mws = append(ns.mws, mw)
	ns.mu.Unlock()
}

// OnConnection sets the handler for new sockets. Events the client sends
// are held until it returns, so handlers it registers miss nothing, even if
// it blocks first.
func (ns *Namespace) OnConnection(fn func(*Socket)) {
	ns.mu.Lock()
	ns.onConn = fn
	ns.mu.Unlock()
}

// ConnectError is a middleware error with data for the client: it becomes
// the client's connect_error with err.message and err.data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Sockets returns the sockets connected to this namespace on this server.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	out := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		out = append(out, s)
	}
	return out
}

func (ns *Namespace) socket(id string) *Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.sockets[id]
}

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return ns.broadcast().Emit(event, args...)
}

func (ns *Namespace) broadcast() *Broadcast { return &Broadcast{ns: ns} }

// To selects the sockets in any of rooms for a broadcast.
func (ns *Namespace) To(rooms ...string) *Broadcast { return ns.broadcast().To(rooms...) }

// In is To.
func (ns *Namespace) In(rooms ...string) *Broadcast { return ns.To(rooms...) }

// Except excludes the sockets in any of rooms from a broadcast.
func (ns *Namespace) Except(rooms ...string) *Broadcast { return ns.broadcast().Except(rooms...) }

// Local restricts a broadcast to this server.
func (ns *Namespace) Local() *Broadcast { return ns.broadcast().Local() }

// Volatile marks a broadcast as droppable for clients not ready for it.
func (ns *Namespace) Volatile() *Broadcast { return ns.broadcast().Volatile() }

// Timeout sets how long EmitWithAck waits for the acks of a broadcast.
func (ns *Namespace) Timeout(d time.Duration) *Broadcast { return ns.broadcast().Timeout(d) }

// Compress starts a broadcast whose event may be compressed (true, the
// default) or never is (false); see Broadcast.Compress.
func (ns *Namespace) Compress(compress bool) *Broadcast { return ns.broadcast().Compress(compress) }

// FetchSockets returns the sockets of the namespace.
func (ns *Namespace) FetchSockets() []*Socket { return ns.broadcast().FetchSockets() }

// SocketsJoin makes every socket of the namespace join rooms.
func (ns *Namespace) SocketsJoin(rooms ...string) { ns.broadcast().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (ns *Namespace) SocketsLeave(rooms ...string) { ns.broadcast().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace.
func (ns *Namespace) DisconnectSockets(close bool) { ns.broadcast().DisconnectSockets(close) }

// deliver sends an encoded packet to local sockets by id, taking each shard
// lock once for all of its recipients. It returns how many got it.
func (ns *Namespace) deliver(ids []string, p *EncodedPacket, flags sio.SendFlags) int {
	volatile := flags&sio.SendVolatile != 0
	if len(ids) == 0 {
		return 0
	}
	byShard := make(map[*shard][]*Socket, len(ns.server.engine.shards))
	ns.mu.RLock()
	for _, id := range ids {
		if s := ns.sockets[id]; s != nil {
			sh := s.conn.sh
			byShard[sh] = append(byShard[sh], s)
		}
	}
	ns.mu.RUnlock()
	n := 0
	hs := make([]eio.Handle, 0, len(ids))
	for sh, sockets := range byShard {
		b := sh.begin(0, nil)
		hs = hs[:0]
		for _, s := range sockets {
			if !s.conn.closed.Load() && !(volatile && s.conn.wsBusy()) {
				hs = append(hs, s.conn.h)
			}
		}
		// One call per shard: the payload crosses into the core once.
		b.broadcast = len(hs) > 1
		n += sh.core.Broadcast(b.now, hs, ns.name, p.Text, p.Attachments, flags)
		sh.end(b)
		b.done()
	}
	return n
}

// connect runs on the connection's event loop when a client asks to join.
func (srv *Server) connect(c *EngineConn, name string, auth []byte, query string) {
	ns := srv.lookup(name, auth)
	if ns == nil {
		var data []byte
		if c.protocol == 3 {
			// The reference sends v2 clients the same object as the others
			// here (its middleware errors, though, reach them as data).
			data = []byte(`{"message":"Invalid namespace"}`)
		}
		srv.refuse(c, name, "Invalid namespace", data)
		return
	}
	s := newSocket(ns, c, auth, query)
	var restored *savedSession
	var missed []*EncodedPacket
	if ns.saved != nil && c.protocol != 3 {
		if pid, offset, ok := recoveryAuth(auth); ok {
			restored, missed, _ = ns.saved.restore(pid, offset)
		}
		if restored != nil {
			s.id, s.pid, s.data, s.recovered = restored.sid, restored.pid, restored.data, true
		} else {
			s.pid = newSocketID()
		}
	}
	ns.mu.RLock()
	mws := ns.mws
	ns.mu.RUnlock()
	if restored != nil && !srv.opts.ConnectionStateRecovery.RunMiddlewares {
		mws = nil
	}
	for _, mw := range mws {
		var err error
		if !c.sh.e.safely(func() { err = mw(s) }) {
			err = errHandlerPanic
		}
		if err == nil {
			continue
		}
		var data []byte
		var ce *ConnectError
		if errors.As(err, &ce) && ce.Data != nil {
			data, _ = json.Marshal(ce.Data)
		}
		srv.refuse(c, name, err.Error(), data)
		return
	}
	// Registered, in its own room (and restored ones) and connected
	// before the client hears of it, as the reference does (sockets.set,
	// join, then the CONNECT packet): a broadcast the client sets off once
	// connected reaches it.
	ns.mu.Lock()
	ns.sockets[s.id] = s
	onConn := ns.onConn
	ns.mu.Unlock()
	if ns.parent != nil {
		// A dynamic namespace cleaned up while this socket connected: join
		// the one that now stands for the name instead.
		srv.mu.RLock()
		gone := ns.removed
		srv.mu.RUnlock()
		if gone {
			ns.mu.Lock()
			delete(ns.sockets, s.id)
			ns.mu.Unlock()
			ns = ns.parent.child(name)
			s.ns = ns
			ns.mu.Lock()
			ns.sockets[s.id] = s
			onConn = ns.onConn
			ns.mu.Unlock()
		}
	}
	c.setSocket(name, s)
	ns.adapter.AddAll(s.id, []string{s.id})
	if restored != nil {
		ns.adapter.AddAll(s.id, restored.rooms)
	}
	s.connected.Store(true)
	b := c.sh.begin(0, nil)
	ok := !c.closed.Load() && c.sh.core.Accept(b.now, c.h, name, s.id, s.pid)
	c.sh.end(b)
	b.done()
	if !ok {
		// The connection went away meanwhile: undo, so that its close
		// finds no socket here.
		s.connected.Store(false)
		c.takeSocket(name)
		ns.remove(s)
		return
	}
	for _, p := range missed {
		_ = s.send(p, 0)
	}
	if onConn != nil {
		c.sh.e.safely(func() { onConn(s) })
	}
}

func (srv *Server) refuse(c *EngineConn, name, message string, data []byte) {
	b := c.sh.begin(0, nil)
	if !c.closed.Load() {
		c.sh.core.Refuse(b.now, c.h, name, message, data)
	}
	c.sh.end(b)
	b.done()
}

// remove forgets a disconnected socket.
func (ns *Namespace) remove(s *Socket) {
	ns.adapter.DelAll(s.id)
	ns.mu.Lock()
	delete(ns.sockets, s.id)
	empty := len(ns.sockets) == 0
	ns.mu.Unlock()
	if empty && ns.parent != nil && ns.server.opts.CleanupEmptyChildNamespaces {
		ns.server.removeChild(ns)
	}
}
