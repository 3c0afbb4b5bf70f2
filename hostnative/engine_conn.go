package hostnative

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siohost/siohost/core/eio"
)

// ErrClosed is returned when sending on a closed connection.
var ErrClosed = errors.New("siohost: connection closed")

// EngineConn is one Engine.IO session: a client connected through polling,
// WebSocket, or polling upgraded to WebSocket.
type EngineConn struct {
	sh       *shard
	h        eio.Handle
	id       string
	protocol int
	req      *http.Request
	onWS     atomic.Bool // the current transport is a WebSocket
	ws       atomic.Pointer[wsConn]
	opened   time.Time
	closed   atomic.Bool
	awaiting atomic.Int64 // acks its sockets wait for

	mu        sync.Mutex // guards the handlers and the mailbox
	onMessage func(data []byte, binary bool)
	onUpgrade func(transport string)
	onClose   func(reason, description string)
	mailbox   queue              // events for the application's handlers
	waiting   bool               // a reader waits for the queues to drain
	drained   *sync.Cond         // signals it
	sockets   map[string]*Socket // Socket.IO sockets by namespace
}

func newEngineConn(sh *shard, h eio.Handle, r *http.Request) *EngineConn {
	// The id, protocol and transport are filled in once the effects of the
	// call are applied (shard.applyEffects).
	return &EngineConn{sh: sh, h: h, req: r, opened: time.Now()}
}

// ID returns the Engine.IO session id.
func (c *EngineConn) ID() string { return c.id }

// Protocol returns the Engine.IO protocol version of the client: 4, or 3 for
// socket.io-client 2.x.
func (c *EngineConn) Protocol() int { return c.protocol }

// Request returns the handshake request. Its body must not be read.
func (c *EngineConn) Request() *http.Request { return c.req }

// Transport returns the name of the current transport: "polling" or
// "websocket".
func (c *EngineConn) Transport() string {
	if c.onWS.Load() {
		return "websocket"
	}
	return "polling"
}

// wsBusy reports whether the session's WebSocket is still writing what it
// was given (see frameQueue.busy).
func (c *EngineConn) wsBusy() bool {
	w := c.ws.Load()
	return w != nil && c.onWS.Load() && w.busy()
}

// OnMessage sets the handler for messages from the client. data belongs to
// the handler.
func (c *EngineConn) OnMessage(fn func(data []byte, binary bool)) {
	c.mu.Lock()
	c.onMessage = fn
	c.mu.Unlock()
}

// OnUpgrade sets the handler called when the connection moves to another
// transport.
func (c *EngineConn) OnUpgrade(fn func(transport string)) {
	c.mu.Lock()
	c.onUpgrade = fn
	c.mu.Unlock()
}

// OnClose sets the handler called once when the connection closes, with the
// reason ("transport close", "ping timeout", ...) and a description.
func (c *EngineConn) OnClose(fn func(reason, description string)) {
	c.mu.Lock()
	c.onClose = fn
	c.mu.Unlock()
}

// Send sends a message: binary when binary is set, else text (data must then
// be valid UTF-8). data may be reused once Send returns.
func (c *EngineConn) Send(data []byte, binary bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	b := c.sh.begin(0, nil)
	// Checked under the lock: a handle outlives its session, and after a
	// core failure it may name a session of the new core.
	ok := !c.closed.Load() && c.sh.core.Send(b.now, c.h, binary, data)
	c.sh.end(b)
	b.done()
	if !ok {
		return ErrClosed
	}
	return nil
}

// Close closes the connection; the close handler sees "forced close".
func (c *EngineConn) Close() {
	b := c.sh.begin(0, nil)
	if !c.closed.Load() {
		c.sh.core.CloseSession(b.now, c.h, eio.ReasonForcedClose, "")
	}
	c.sh.end(b)
	b.done()
}

type eventKind uint8

const (
	evOpen eventKind = iota
	evMessage
	evUpgrade
	evClose
	evConnError
	evConnect    // Socket.IO: the client asks to join nsp
	evEvent      // Socket.IO: an event on nsp
	evAck        // Socket.IO: an acknowledgement on nsp
	evDisconnect // Socket.IO: the socket on nsp is gone (reason)
	evLeft       // Socket.IO: the server disconnected socket s
)

type event struct {
	kind        eventKind
	binary      bool
	c           *EngineConn
	data        []byte
	reason      string
	desc        string
	cerr        *ConnectionError
	nsp         string
	id          int64
	attachments [][]byte
	s           *Socket
}

// queue is a connection's run queue: its events run one at a time and in
// order, on a goroutine that lives while the queue is busy, so no goroutine
// is kept per idle connection and the connection's reader stays shallow
// (its stack small while it waits for the next frame).
type queue struct {
	events  []event
	running bool
}

// dispatch routes an event. Application events go to the mailbox; acks go
// straight to the emitter waiting for it, which may be a handler of this
// very connection.
func (ev event) dispatch(e *Engine) {
	c := ev.c
	switch ev.kind {
	case evConnError:
		if fn := e.onConnError.Load(); fn != nil {
			if len(ev.data) > 0 {
				_ = json.Unmarshal(ev.data, &ev.cerr.Context)
			}
			if ev.cerr.Err != nil && ev.cerr.Context != nil {
				ev.cerr.Context["error"] = ev.cerr.Err.Error()
			}
			e.safely(func() { (*fn)(ev.cerr) })
		}
		return
	case evAck:
		if s := c.socket(ev.nsp); s != nil {
			s.onAck(ev.id, ev.data, ev.attachments)
		}
		return
	}
	c.enqueue(e, &c.mailbox, ev)
}

func (c *EngineConn) enqueue(e *Engine, q *queue, ev event) {
	if c.push(q, ev) {
		c.start(e, q)
	}
}

// push adds an event to q and reports whether q must be started.
func (c *EngineConn) push(q *queue, ev event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	q.events = append(q.events, ev)
	if q.running {
		return false
	}
	q.running = true
	return true
}

func (c *EngineConn) start(e *Engine, q *queue) {
	e.busy.Add(1)
	e.runner.run(func() { c.drain(e, q) })
}

// failAcksEarly fails the acks a socket awaits as soon as the core reports
// its end, without waiting for the mailbox: the waiter may be a handler of
// this very connection, which the mailbox would otherwise wait for.
func (ev *event) failAcksEarly() {
	switch ev.kind {
	case evDisconnect:
		if s := ev.c.socket(ev.nsp); s != nil {
			s.connected.Store(false)
			s.failAcks()
		}
	case evClose:
		ev.c.mu.Lock()
		sockets := make([]*Socket, 0, len(ev.c.sockets))
		for _, s := range ev.c.sockets {
			sockets = append(sockets, s)
		}
		ev.c.mu.Unlock()
		for _, s := range sockets {
			s.connected.Store(false)
			s.failAcks()
		}
	}
}

func (c *EngineConn) drain(e *Engine, q *queue) {
	c.mu.Lock()
	for len(q.events) > 0 {
		next := q.events[0]
		q.events[0] = event{}
		q.events = q.events[1:]
		c.wake()
		c.mu.Unlock()
		c.run(e, next)
		c.mu.Lock()
	}
	q.events = nil
	q.running = false
	c.wake()
	c.mu.Unlock()
	e.busy.Add(-1)
}

// wake releases a waiting reader once the queues are short again.
func (c *EngineConn) wake() {
	if c.waiting && len(c.mailbox.events) < mailboxLow {
		c.waiting = false
		c.drained.Broadcast()
	}
}

// Backpressure: a reader that has queued mailboxHigh events waits until the
// handlers have brought the queue under mailboxLow, so a client cannot make
// the server buffer events without bound.
const (
	mailboxHigh = 256
	mailboxLow  = 64
)

// ackStarted counts an ack a socket now awaits, and lets a throttled reader
// go on reading: the ack may be behind the events it waits for.
func (c *EngineConn) ackStarted() {
	c.awaiting.Add(1)
	c.mu.Lock()
	if c.waiting {
		c.waiting = false
		c.drained.Broadcast()
	}
	c.mu.Unlock()
}

// throttle blocks the caller (a connection's reader) while the mailbox is
// too full. While a handler awaits an ack the reader goes on (to a hard
// limit), since the ack it waits for may be behind the events.
func (c *EngineConn) throttle() {
	c.mu.Lock()
	for {
		n := len(c.mailbox.events)
		if n < mailboxHigh || (c.awaiting.Load() > 0 && n < 4*mailboxHigh) {
			break
		}
		if c.drained == nil {
			c.drained = sync.NewCond(&c.mu)
		}
		c.waiting = true
		c.drained.Wait()
	}
	c.mu.Unlock()
}

func (c *EngineConn) run(e *Engine, ev event) {
	switch ev.kind {
	case evOpen:
		if fn := e.onConnection.Load(); fn != nil {
			e.safely(func() { (*fn)(c) })
		}
	case evMessage:
		c.mu.Lock()
		fn := c.onMessage
		c.mu.Unlock()
		if fn != nil {
			e.safely(func() { fn(ev.data, ev.binary) })
		}
	case evUpgrade:
		c.mu.Lock()
		fn := c.onUpgrade
		c.mu.Unlock()
		if fn != nil {
			e.safely(func() { fn("websocket") })
		}
	case evConnect:
		if e.sio != nil {
			e.sio.connect(c, ev.nsp, ev.data, ev.reason)
		}
	case evEvent:
		if s := c.socket(ev.nsp); s != nil {
			s.onEvent(ev.data, ev.attachments, ev.id)
		}
	case evDisconnect:
		if s := c.takeSocket(ev.nsp); s != nil {
			s.closed(ev.reason, ev.desc)
		}
	case evLeft:
		ev.s.closed(ev.reason, "")
	case evClose:
		c.mu.Lock()
		fn := c.onClose
		c.onMessage, c.onUpgrade, c.onClose = nil, nil, nil
		c.mu.Unlock()
		if fn != nil {
			e.safely(func() { fn(ev.reason, ev.desc) })
		}
	}
}

// safely runs an application handler, recovering and logging a panic; it
// reports whether fn returned normally.
func (e *Engine) safely(fn func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
			e.opts.Logger.Error("siohost: handler panic", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn()
	return true
}

// errHandlerPanic stands for the error of a middleware that panicked.
var errHandlerPanic = errors.New("siohost: internal error")

func (c *EngineConn) setSocket(nsp string, s *Socket) {
	c.mu.Lock()
	if c.sockets == nil {
		c.sockets = make(map[string]*Socket, 1)
	}
	c.sockets[nsp] = s
	c.mu.Unlock()
}

func (c *EngineConn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

func (c *EngineConn) takeSocket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sockets[nsp]
	delete(c.sockets, nsp)
	return s
}

// disconnect removes socket s on the server's initiative: the client is
// sent a DISCONNECT and the socket's handlers run on the connection's event
// loop, after the event being handled, if any.
func (c *EngineConn) disconnect(s *Socket, reason string, notify bool) {
	if c.takeSocket(s.ns.name) != s {
		return
	}
	s.connected.Store(false)
	s.failAcks()
	if notify {
		b := c.sh.begin(0, nil)
		if !c.closed.Load() {
			c.sh.core.Leave(b.now, c.h, s.ns.name)
		}
		c.sh.end(b)
		b.done()
	}
	event{kind: evLeft, c: c, s: s, reason: reason}.dispatch(c.sh.e)
}

// disconnectAll disconnects every socket of the connection, then closes it.
func (c *EngineConn) disconnectAll() {
	c.mu.Lock()
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		sockets = append(sockets, s)
	}
	c.mu.Unlock()
	for _, s := range sockets {
		c.disconnect(s, "server namespace disconnect", true)
	}
	c.Close()
}
