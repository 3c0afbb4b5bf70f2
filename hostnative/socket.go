package hostnative

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siohost/siohost/core/sio"
)

// Handshake describes the request that opened a socket's connection.
type Handshake struct {
	// Headers of the handshake request; read-only.
	Headers http.Header
	Query   url.Values
	// Auth is the CONNECT payload ({} when the client sent none). For v2
	// clients it is built from the namespace's query string.
	Auth json.RawMessage
	// Address is the client's IP address, without the port, as the
	// reference's handshake.address (a proxy's, behind one: see
	// Headers["X-Forwarded-For"]).
	Address string
	// Time the connection was opened (the reference's time and issued).
	Time time.Time
	// URL is the request URI of the handshake.
	URL string
	// Secure reports a TLS connection.
	Secure bool
	// XDomain reports a cross-origin request (an Origin header).
	XDomain bool
}

// Socket is a client's connection to one namespace.
type Socket struct {
	ns        *Namespace
	conn      *EngineConn
	id        string
	auth      json.RawMessage // nil for {}
	connected atomic.Bool
	left      atomic.Bool               // disconnected, or disconnecting
	handshake atomic.Pointer[Handshake] // built on first use
	pid       string                    // private id, with connection state recovery
	recovered bool

	mu           sync.Mutex
	handlers     map[string]func(*Event)
	onAny        []func(*Event)
	onAnyOut     []func(event string, args []any)
	mws          []func(*Event) error
	onDisconnect []func(reason, description string)
	onDiscing    []func(reason, description string)
	onError      func(error)
	data         any
	acks         map[int64]chan ackResult
	acksFailed   bool // the socket is gone: no ack can come
}

type ackResult struct {
	from        *Socket
	data        []byte
	attachments [][]byte
	err         error
}

// ErrDisconnected is returned for operations on a disconnected socket, and
// by pending acks when their socket goes away.
var ErrDisconnected = errors.New("siohost: socket disconnected")

func newSocket(ns *Namespace, c *EngineConn, auth []byte, query string) *Socket {
	s := &Socket{ns: ns, conn: c}
	if c.protocol == 3 {
		// v2 clients see the engine id as their socket id.
		s.id = c.id
		if ns.name != "/" {
			s.id = ns.name + "#" + c.id
		}
	} else {
		s.id = newSocketID()
	}
	switch {
	case len(auth) > 0:
		s.auth = append(json.RawMessage(nil), auth...)
	case query != "":
		if q, err := url.ParseQuery(query); err == nil {
			m := make(map[string]string, len(q))
			for k := range q {
				m[k] = q.Get(k)
			}
			s.auth, _ = json.Marshal(m)
		}
	}
	return s
}

func newSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Recovered reports whether the socket came back from a lost transport
// with its state (ServerOptions.ConnectionStateRecovery): its id, rooms
// and data, and the broadcasts it missed, sent before its connection
// handler ran.
func (s *Socket) Recovered() bool { return s.recovered }

// ID returns the socket id, distinct from the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns the details of the connection's handshake. It is built
// on first use, so sockets that never ask keep no copy of the request.
func (s *Socket) Handshake() *Handshake {
	if h := s.handshake.Load(); h != nil {
		return h
	}
	r := s.conn.req
	h := &Handshake{
		Headers: r.Header,
		Query:   r.URL.Query(),
		Auth:    s.auth,
		Address: remoteIP(r.RemoteAddr),
		Time:    s.conn.opened,
		URL:     r.URL.RequestURI(),
		Secure:  r.TLS != nil,
		XDomain: r.Header.Get("Origin") != "",
	}
	if h.Auth == nil {
		h.Auth = json.RawMessage("{}")
	}
	s.handshake.CompareAndSwap(nil, h)
	return s.handshake.Load()
}

// remoteIP strips the port from a RemoteAddr.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Conn returns the Engine.IO connection under the socket: its transport
// name and upgrade event.
func (s *Socket) Conn() *EngineConn { return s.conn }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { return s.connected.Load() }

// Data returns the application's value attached with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData attaches a value of the application to the socket.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On sets the handler of an event. Handlers of one socket run one at a
// time, in the order the events arrived.
func (s *Socket) On(event string, fn func(*Event)) {
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = make(map[string]func(*Event))
	}
	s.handlers[event] = fn
	s.mu.Unlock()
}

// Off removes the handler of an event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	delete(s.handlers, event)
	s.mu.Unlock()
}

// OnAny adds a handler that sees every incoming event first.
func (s *Socket) OnAny(fn func(*Event)) {
	s.mu.Lock()
	s.onAny = append(s.onAny, fn)
	s.mu.Unlock()
}

// OffAny removes the handlers added with OnAny.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.onAny = nil
	s.mu.Unlock()
}

// OffAnyOutgoing removes the handlers added with OnAnyOutgoing.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.onAnyOut = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler that sees every event the socket emits.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	s.onAnyOut = append(s.onAnyOut, fn)
	s.mu.Unlock()
}

// Use adds a per-event middleware: it runs before the handlers and an error
// stops the event, which is then reported to the OnError handler.
func (s *Socket) Use(mw func(*Event) error) {
	s.mu.Lock()
	s.mws = append(s.mws, mw)
	s.mu.Unlock()
}

// OnError sets the handler of errors returned by per-event middleware.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.onError = fn
	s.mu.Unlock()
}

// OnDisconnecting adds a handler that runs when the socket is about to
// leave, while it is still in its rooms (arguments as for OnDisconnect).
func (s *Socket) OnDisconnecting(fn func(reason, description string)) {
	s.mu.Lock()
	s.onDiscing = append(s.onDiscing, fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler that runs once the socket has left, with the
// reason: "client namespace disconnect", "server namespace disconnect",
// "transport close", "transport error", "ping timeout", "parse error",
// "forced close", "forced server close" or "server shutting down"; and a
// description of the cause when there is one (the reference's details),
// such as "invalid heartbeat direction" or the decoding error of a packet
// that could not be parsed.
func (s *Socket) OnDisconnect(fn func(reason, description string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// Join adds the socket to rooms. A disconnected socket joins nothing.
func (s *Socket) Join(rooms ...string) {
	if s.left.Load() {
		return
	}
	s.ns.adapter.AddAll(s.id, rooms)
	if s.left.Load() {
		// It left meanwhile: its rooms may have been cleared already.
		s.ns.adapter.DelAll(s.id)
	}
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.ns.adapter.Del(s.id, room) }

// Rooms returns the rooms the socket is in, its own id included.
func (s *Socket) Rooms() []string { return s.ns.adapter.SocketRooms(s.id) }

// Emit sends an event to the client. A []byte argument is sent as binary.
func (s *Socket) Emit(event string, args ...any) error { return s.emitter().Emit(event, args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	return s.emitter().EmitWithAck(ctx, event, args...)
}

// EmitRaw sends an event whose arguments are a raw JSON array (with
// placeholders for attachments), without re-encoding them.
func (s *Socket) EmitRaw(event string, args json.RawMessage, attachments [][]byte) error {
	return s.emitter().EmitRaw(event, args, attachments)
}

// Timeout returns an emitter whose acks fail after d.
func (s *Socket) Timeout(d time.Duration) *Emitter { return &Emitter{s: s, timeout: d} }

// Volatile returns an emitter whose events are dropped when the client is
// not ready to take them at once.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, volatile: true} }

// Compress returns an emitter whose events may be compressed (true, the
// default) or never are (false): see Emitter.Compress.
func (s *Socket) Compress(compress bool) *Emitter { return &Emitter{s: s, noCompress: !compress} }

func (s *Socket) emitter() *Emitter { return &Emitter{s: s} }

// To starts a broadcast from this socket: to the sockets in rooms, the
// socket itself excepted.
func (s *Socket) To(rooms ...string) *Broadcast {
	return s.ns.broadcast().To(rooms...).Except(s.id)
}

// In is To.
func (s *Socket) In(rooms ...string) *Broadcast { return s.To(rooms...) }

// Broadcast starts a broadcast to every other socket of the namespace.
func (s *Socket) Broadcast() *Broadcast { return s.ns.broadcast().Except(s.id) }

// Except starts a broadcast to every other socket of the namespace but
// those in rooms.
func (s *Socket) Except(rooms ...string) *Broadcast { return s.Broadcast().Except(rooms...) }

// Disconnect disconnects the socket from its namespace (the client sees
// "io server disconnect"). With close, every namespace of the connection is
// left and the connection itself is closed.
func (s *Socket) Disconnect(close bool) {
	if s.left.Load() {
		return
	}
	if close {
		s.conn.disconnectAll()
		return
	}
	s.conn.disconnect(s, sio.ReasonServerNamespace, true)
}

// send writes an encoded packet to the client.
func (s *Socket) send(p *EncodedPacket, flags sio.SendFlags) error {
	if !s.connected.Load() {
		return ErrDisconnected
	}
	volatile := flags&sio.SendVolatile != 0
	if volatile && s.conn.wsBusy() {
		return nil // dropped, as the reference drops it
	}
	sh := s.conn.sh
	b := sh.begin(0, nil)
	ok := !s.conn.closed.Load() && sh.core.Emit(b.now, s.conn.h, s.ns.name, p.Text, p.Attachments, flags)
	sh.end(b)
	b.done()
	if !ok && !volatile {
		return ErrDisconnected
	}
	return nil
}

func (s *Socket) registerAck(id int64) (chan ackResult, bool) {
	ch := make(chan ackResult, 1)
	return ch, s.registerAckTo(id, ch)
}

// registerAckTo routes the ack of id to ch, which must have room for it. It
// reports false when the socket is already gone.
func (s *Socket) registerAckTo(id int64, ch chan ackResult) bool {
	s.mu.Lock()
	if s.acksFailed {
		s.mu.Unlock()
		return false
	}
	if s.acks == nil {
		s.acks = make(map[int64]chan ackResult)
	}
	s.acks[id] = ch
	s.mu.Unlock()
	s.conn.ackStarted()
	return true
}

func (s *Socket) takeAck(id int64) chan ackResult {
	s.mu.Lock()
	ch, ok := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if ok {
		s.conn.awaiting.Add(-1)
	}
	return ch
}

func (s *Socket) dropAck(id int64) { s.takeAck(id) }

// onAck delivers a client's acknowledgement.
func (s *Socket) onAck(id int64, data []byte, attachments [][]byte) {
	if ch := s.takeAck(id); ch != nil {
		ch <- ackResult{from: s, data: data, attachments: attachments}
	}
}

// failAcks ends every ack the socket awaits with ErrDisconnected, and any
// later one at once.
func (s *Socket) failAcks() {
	s.left.Store(true)
	s.mu.Lock()
	acks := s.acks
	s.acks, s.acksFailed = nil, true
	s.mu.Unlock()
	for _, ch := range acks {
		s.conn.awaiting.Add(-1)
		ch <- ackResult{from: s, err: ErrDisconnected}
	}
}

// onEvent runs the middleware and handlers of an incoming event.
func (s *Socket) onEvent(data []byte, attachments [][]byte, id int64) {
	name, _ := sio.EventName(data)
	ev := newEvent(s, name, data, attachments, id)
	s.mu.Lock()
	mws, anys, h, onErr := s.mws, s.onAny, s.handlers[name], s.onError
	s.mu.Unlock()
	e := s.conn.sh.e
	for _, mw := range mws {
		var err error
		if !e.safely(func() { err = mw(ev) }) {
			err = errHandlerPanic
		}
		if err != nil {
			if onErr != nil {
				e.safely(func() { onErr(err) })
			}
			return
		}
	}
	for _, fn := range anys {
		e.safely(func() { fn(ev) })
	}
	if h != nil {
		e.safely(func() { h(ev) })
	}
}

// closed runs the disconnect sequence of the reference: disconnecting
// handlers (rooms still joined), leaving the rooms, failing pending acks,
// then disconnect handlers.
func (s *Socket) closed(reason, desc string) {
	s.connected.Store(false)
	s.mu.Lock()
	discing, disc := s.onDiscing, s.onDisconnect
	s.mu.Unlock()
	s.failAcks()
	e := s.conn.sh.e
	for _, fn := range discing {
		e.safely(func() { fn(reason, desc) })
	}
	var saved *savedSession
	if s.ns.saved != nil && s.pid != "" && recoverable(reason) {
		s.mu.Lock()
		saved = &savedSession{sid: s.id, pid: s.pid, rooms: s.ns.adapter.SocketRooms(s.id), data: s.data}
		s.mu.Unlock()
	}
	s.ns.remove(s)
	if saved != nil {
		// Only now: a client that recovers must not find this socket
		// still in the namespace.
		s.ns.saved.persist(saved)
	}
	for _, fn := range disc {
		e.safely(func() { fn(reason, desc) })
	}
}

// reportError hands an error to the OnError handler, if any.
func (s *Socket) reportError(err error) {
	s.mu.Lock()
	fn := s.onError
	s.mu.Unlock()
	if fn != nil {
		s.conn.sh.e.safely(func() { fn(err) })
	}
}
