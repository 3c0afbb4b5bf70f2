package hostnative

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a Socket.IO server: an http.Handler that speaks Socket.IO v5
// (and v4 to socket.io-client 2.x when Engine.AllowEIO3 is set) over the
// Engine.IO transports. Namespaces are created with Of; "/" always exists.
type Server struct {
	opts    ServerOptions
	engine  *Engine
	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	onNew   atomic.Pointer[func(*Namespace)]
}

// NewServer returns a Socket.IO server with the given options.
func NewServer(opts ServerOptions) *Server {
	s := &Server{opts: opts.withDefaults(), nsps: make(map[string]*Namespace)}
	s.engine = newEngine(s.opts.Engine, s)
	s.Of("/")
	return s
}

// ServeHTTP serves the Engine.IO transports at the server's path.
// With ServerOptions.ClientFiles, it also serves the browser client there.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.ClientFiles != nil && s.serveClient(w, r) {
		return
	}
	s.engine.ServeHTTP(w, r)
}

// Path returns the path the server serves, with a trailing slash, for
// mounting: mux.Handle(io.Path(), io).
func (s *Server) Path() string { return s.engine.Path() }

// Engine returns the underlying Engine.IO server, for its connection-error
// hook and counters.
func (s *Server) Engine() *Engine { return s.engine }

// Of returns the namespace with the given name, creating it if needed.
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.RLock()
	ns := s.nsps[name]
	s.mu.RUnlock()
	if ns != nil {
		return ns
	}
	// The adapter is built outside the lock: a clustered one may do I/O.
	fresh := newNamespace(s, name, nil)
	s.mu.Lock()
	if ns = s.nsps[name]; ns == nil {
		ns = fresh
		s.nsps[name] = ns
	}
	s.mu.Unlock()
	if ns != fresh {
		fresh.adapter.Close()
	} else {
		s.newNamespace(ns)
	}
	return ns
}

// OnNewNamespace sets the handler told about every namespace created from
// then on, by Of or as the child of a dynamic parent (the reference's
// "new_namespace" event). It runs on the goroutine that created the
// namespace: for a child, before the client's connection to it goes on.
func (s *Server) OnNewNamespace(fn func(*Namespace)) { s.onNew.Store(&fn) }

func (s *Server) newNamespace(ns *Namespace) {
	if fn := s.onNew.Load(); fn != nil {
		s.engine.safely(func() { (*fn)(ns) })
	}
}

// OfFunc declares dynamic namespaces: a client may join any namespace for
// which match returns true; each becomes a child of the returned parent and
// gets its handlers and middleware.
func (s *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{server: s, match: match, children: make(map[string]*Namespace)}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfRegexp declares dynamic namespaces whose names match re.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

// lookup finds the namespace a client asks for: a static one, or a new
// child of the first dynamic parent that accepts the name.
func (s *Server) lookup(name string, auth json.RawMessage) *Namespace {
	s.mu.RLock()
	ns := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if ns != nil {
		return ns
	}
	for _, p := range parents {
		matched := false
		s.engine.safely(func() { matched = p.match(name, auth) })
		if matched {
			return p.child(name)
		}
	}
	return nil
}

// removeChild forgets an empty dynamic namespace, unless a socket joined
// it meanwhile, and closes its adapter.
func (s *Server) removeChild(ns *Namespace) {
	s.mu.Lock()
	ns.mu.RLock()
	empty := len(ns.sockets) == 0
	ns.mu.RUnlock()
	removed := empty && s.nsps[ns.name] == ns
	if removed {
		delete(s.nsps, ns.name)
		ns.removed = true
		if ns.parent != nil {
			ns.parent.forget(ns)
		}
	}
	s.mu.Unlock()
	if removed {
		ns.adapter.Close()
	}
}

// OnConnection sets the connection handler of the "/" namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.Of("/").OnConnection(fn) }

// Use adds a connection middleware to the "/" namespace.
func (s *Server) Use(mw func(*Socket) error) { s.Of("/").Use(mw) }

// Emit sends an event to every socket of the "/" namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// The broadcast shortcuts below act on the "/" namespace, as the
// reference's io.to(), io.except()… do.

// To selects the sockets of "/" in the given rooms for a broadcast.
func (s *Server) To(rooms ...string) *Broadcast { return s.Of("/").To(rooms...) }

// In is To.
func (s *Server) In(rooms ...string) *Broadcast { return s.Of("/").In(rooms...) }

// Except selects the sockets of "/" that are in none of the given rooms.
func (s *Server) Except(rooms ...string) *Broadcast { return s.Of("/").Except(rooms...) }

// Local limits a broadcast on "/" to this server's sockets.
func (s *Server) Local() *Broadcast { return s.Of("/").Local() }

// Volatile marks a broadcast on "/" as one that may be lost.
func (s *Server) Volatile() *Broadcast { return s.Of("/").Volatile() }

// Timeout sets how long EmitWithAck waits for the acks of a broadcast on "/".
func (s *Server) Timeout(d time.Duration) *Broadcast { return s.Of("/").Timeout(d) }

// Sockets returns the sockets connected to "/" on this server.
func (s *Server) Sockets() []*Socket { return s.Of("/").Sockets() }

// FetchSockets returns the sockets of "/" across the cluster.
func (s *Server) FetchSockets() []*Socket { return s.Of("/").FetchSockets() }

// SocketsJoin makes every socket of "/" join rooms.
func (s *Server) SocketsJoin(rooms ...string) { s.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes every socket of "/" leave rooms.
func (s *Server) SocketsLeave(rooms ...string) { s.Of("/").SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of "/"; with close, their
// Engine.IO connections are closed too.
func (s *Server) DisconnectSockets(close bool) { s.Of("/").DisconnectSockets(close) }

// Compress starts a broadcast to "/" whose event may be compressed (true,
// the default) or never is (false): io.compress(false) of the reference.
func (s *Server) Compress(compress bool) *Broadcast { return s.Of("/").Compress(compress) }

// Close disconnects every client ("server shutting down") and refuses new
// ones from then on (503 Service Unavailable), as the reference's
// io.close() does by closing its HTTP server.
func (s *Server) Close() {
	s.engine.closed.Store(true)
	s.engine.Close()
}

// Shutdown disconnects every client like Close, then waits until the
// disconnect handlers have run, or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.engine.closed.Store(true)
	return s.engine.Shutdown(ctx)
}

// ParentNamespace is a family of dynamic namespaces: handlers and
// middleware set on it apply to every child.
type ParentNamespace struct {
	server *Server
	match  func(string, json.RawMessage) bool

	mu       sync.Mutex
	mws      []func(*Socket) error
	onConn   func(*Socket)
	children map[string]*Namespace
}

// Use adds a connection middleware to every child.
func (p *ParentNamespace) Use(mw func(*Socket) error) {
	p.mu.Lock()
	p.mws = append(p.mws, mw)
	children := p.snapshot()
	p.mu.Unlock()
	for _, c := range children {
		c.Use(mw)
	}
}

// OnConnection sets the connection handler of every child.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	p.onConn = fn
	children := p.snapshot()
	p.mu.Unlock()
	for _, c := range children {
		c.OnConnection(fn)
	}
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	p.mu.Lock()
	children := p.snapshot()
	p.mu.Unlock()
	for _, c := range children {
		if err := c.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

func (p *ParentNamespace) snapshot() []*Namespace {
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

func (p *ParentNamespace) child(name string) *Namespace {
	s := p.server
	fresh := newNamespace(s, name, p) // outside the locks, as in Of
	s.mu.Lock()
	ns := s.nsps[name]
	if ns == nil {
		ns = fresh
		p.mu.Lock()
		ns.mws = append(ns.mws, p.mws...)
		ns.onConn = p.onConn
		p.children[name] = ns
		p.mu.Unlock()
		s.nsps[name] = ns
	}
	s.mu.Unlock()
	if ns != fresh {
		fresh.adapter.Close()
	} else {
		s.newNamespace(ns)
	}
	return ns
}

func (p *ParentNamespace) forget(ns *Namespace) {
	p.mu.Lock()
	if p.children[ns.name] == ns {
		delete(p.children, ns.name)
	}
	p.mu.Unlock()
}
