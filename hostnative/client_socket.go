package hostnative

import (
	"context"
	"errors"
	"fmt"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// ClientSocket is a Socket.IO client's connection to one namespace of a
// Manager's server (socket.io-client's Socket). Get one with
// Manager.Socket or Dial, set its handlers, then Connect. Every method is
// safe for concurrent use; handlers run on the Manager's handler goroutine.
type ClientSocket struct {
	m   *Manager
	nsp string

	// Guarded by m.mu.
	id             string
	connected      bool
	recovered      bool
	auth           authSource
	authFresh      bool   // Connect resolved the auth for the coming CONNECT
	freshAuth      []byte // that auth
	active         bool   // joined (Connect called, not left nor refused)
	waiters        []chan error
	handlers       map[string]func(*ClientEvent)
	anyHandlers    []func(*ClientEvent)
	anyOutgoing    []func(event string, args []any)
	onConnect      func()
	onConnectError func(*ClientConnectError)
	onDisconnect   func(reason string, details *DisconnectDetails)
	retryQ         []*retryPacket
	unanswered     int // sessions closed by the server with the CONNECT unanswered, since Connect
}

// Namespace returns the socket's namespace.
func (s *ClientSocket) Namespace() string { return s.nsp }

// Manager returns the socket's Manager.
func (s *ClientSocket) Manager() *Manager { return s.m }

// ID returns the socket id the server gave ("" when not connected).
func (s *ClientSocket) ID() string {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.id
}

// Connected reports whether the namespace is connected.
func (s *ClientSocket) Connected() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.connected
}

// Recovered reports whether the last connection restored the previous
// one's state (the server's connectionStateRecovery): the same id, the
// rooms, and the events missed meanwhile, which arrive before OnConnect.
func (s *ClientSocket) Recovered() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.recovered
}

// Transport returns the name of the Manager's current transport
// ("polling", "websocket", or "" when there is no session).
func (s *ClientSocket) Transport() string { return s.m.Transport() }

// SetAuth sets the namespace's CONNECT payload, used from its next
// CONNECT on, in place of ManagerOptions.Auth: the same kinds of values
// (an AuthFunc included); nil sends none.
func (s *ClientSocket) SetAuth(auth any) error {
	src, err := newAuthSource(auth)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.auth = src
	return nil
}

// On sets the handler of event (nil removes it).
func (s *ClientSocket) On(event string, fn func(*ClientEvent)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if fn == nil {
		delete(s.handlers, event)
		return
	}
	s.handlers[event] = fn
}

// Off removes the handler of event.
func (s *ClientSocket) Off(event string) { s.On(event, nil) }

// OnAny adds a handler called for every event, before the event's own.
func (s *ClientSocket) OnAny(fn func(*ClientEvent)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.anyHandlers = append(s.anyHandlers, fn)
}

// OffAny removes the handlers added by OnAny.
func (s *ClientSocket) OffAny() {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.anyHandlers = nil
}

// OnAnyOutgoing adds a handler called with every event emitted with Go
// values (Emit, EmitWithAck), before it is sent, on the emitting
// goroutine.
func (s *ClientSocket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.anyOutgoing = append(s.anyOutgoing, fn)
}

// OffAnyOutgoing removes the handlers added by OnAnyOutgoing.
func (s *ClientSocket) OffAnyOutgoing() {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.anyOutgoing = nil
}

// Active reports whether the socket is joined: Connect was called, and
// neither Disconnect nor a refusal by the server ended it. An active
// socket connects again whenever the Manager reconnects (socket.io-client's
// socket.active).
func (s *ClientSocket) Active() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.active
}

// notifyOutgoing runs the OnAnyOutgoing handlers.
func (s *ClientSocket) notifyOutgoing(event string, args []any) {
	s.m.mu.Lock()
	fns := s.anyOutgoing
	s.m.mu.Unlock()
	for _, fn := range fns {
		s.m.call(func() { fn(event, args) })
	}
}

// OnConnect sets the handler called each time the namespace connects
// (after a reconnection too).
func (s *ClientSocket) OnConnect(fn func()) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.onConnect = fn
}

// OnConnectError sets the handler called each time the namespace fails to
// connect: the server refused it, or an attempt to open the session
// failed (the Manager goes on trying those, unless reconnection is off or
// its attempts are spent).
func (s *ClientSocket) OnConnectError(fn func(*ClientConnectError)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.onConnectError = fn
}

// OnDisconnect sets the handler called when the namespace is disconnected,
// with socket.io-client's reason ("io server disconnect", "io client
// disconnect", "transport close", "transport error", "ping timeout",
// "parse error") and its details (nil when the reason needs none). Unless
// the reason is "io server disconnect" or "io client disconnect", the
// Manager reconnects and the namespace connects again.
func (s *ClientSocket) OnDisconnect(fn func(reason string, details *DisconnectDetails)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.onDisconnect = fn
}

// Connect joins the namespace and returns once the server accepted it.
// While the session cannot be opened, the Manager tries again with its
// backoff (each failure goes to OnConnectError), as socket.io-client
// does; Connect returns a *ClientConnectError when the server refused the
// namespace or the Manager gave up (reconnection off or its attempts
// spent), or ctx's error (joined with the last failure, if any). After an
// error the socket is left (as by Disconnect): nothing goes on in the
// background. Once connected, the namespace reconnects by itself after a
// lost session.
func (s *ClientSocket) Connect(ctx context.Context) error {
	m := s.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrManagerClosed
	}
	if s.connected {
		m.mu.Unlock()
		return nil
	}
	src := s.auth
	m.mu.Unlock()
	auth, err := src.resolve(ctx)
	if err != nil {
		return &ClientConnectError{Message: "auth: " + err.Error(), Err: err}
	}
	var lastErr error
	ch := make(chan error, 1)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrManagerClosed
	}
	s.waiters = append(s.waiters, ch)
	s.unanswered = 0
	flags := uint8(0)
	if src.fn != nil {
		flags = abi.ConnectAuthHost
	}
	if m.core.Connect(m.now(), m.handle, s.nsp, auth, flags) == abi.EmitRefused {
		err := m.refusedAfterLocked()
		s.waiters = s.waiters[:len(s.waiters)-1]
		fl := m.pend
		m.pend = clientFlush{}
		m.mu.Unlock()
		fl.flush()
		return err
	}
	s.active = true
	m.opening = m.opening || !m.opened
	s.authFresh, s.freshAuth = src.fn != nil, auth
	fl := m.applyLocked()
	m.mu.Unlock()
	fl.flush()
	select {
	case err = <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		return nil
	}
	m.mu.Lock()
	for i, w := range s.waiters {
		if w == ch {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			break
		}
	}
	if s.connected {
		err = nil
		fl = clientFlush{}
	} else {
		if ctx.Err() != nil {
			switch {
			case m.lastFailure != nil:
				lastErr = m.lastFailure
			case s.unanswered > 0:
				lastErr = m.unansweredError(s.unanswered)
			case m.opening:
				lastErr = &ClientConnectError{Message: "timeout", Description: "the server has not completed the Engine.IO handshake", Err: ctx.Err()}
			case m.opened:
				lastErr = &ClientConnectError{Message: "timeout", Description: "the server has not answered the namespace's CONNECT", Err: ctx.Err()}
			}
		}
		s.active = false
		m.core.Disconnect(m.now(), m.handle, s.nsp)
		fl = m.applyLocked()
	}
	m.mu.Unlock()
	fl.flush()
	if lastErr != nil {
		err = errors.Join(err, lastErr)
	}
	return err
}

// unansweredError is the timeout of a Connect whose CONNECT the server
// never answered, closing the session instead: what a server with another
// parser does.
func (m *Manager) unansweredError(n int) *ClientConnectError {
	ours, other := "socket.io-parser (ParserJSON, the default)", "socket.io-msgpack-parser"
	if m.opts.Parser == ParserMsgpack {
		ours, other = "socket.io-msgpack-parser (ParserMsgpack)", "the default socket.io-parser"
	}
	return &ClientConnectError{
		Message: "timeout",
		Description: fmt.Sprintf("the server closed the session %d time(s) without answering the namespace's CONNECT: "+
			"does it use the same parser? This client's ManagerOptions.Parser is %s; a server using %s drops the session on its first packet", n, ours, other),
	}
}

// wakeLocked answers the pending Connect calls.
func (s *ClientSocket) wakeLocked(err error) {
	for _, w := range s.waiters {
		w <- err
	}
	s.waiters = nil
}

// Disconnect leaves the namespace: the server sees "client namespace
// disconnect" and OnDisconnect gets "io client disconnect". The Engine.IO
// session closes once no namespace of the Manager is connected. Emits not
// sent yet stay buffered for a later Connect.
func (s *ClientSocket) Disconnect() {
	m := s.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	s.active = false
	m.core.Disconnect(m.now(), m.handle, s.nsp)
	fl := m.applyLocked()
	s.wakeLocked(&ClientConnectError{Message: sio.ReasonIOClientDisconnect})
	m.mu.Unlock()
	fl.flush()
}

// deliverLocked hands an event to the socket's handlers.
func (s *ClientSocket) deliverLocked(e *eio.Effect) {
	fn := s.handlers[e.Text]
	if fn == nil && len(s.anyHandlers) == 0 {
		return
	}
	anys := s.anyHandlers
	ev := newClientEvent(s, e.Text, append([]byte(nil), e.Data...), cloneAttachments(e.Attachments), e.ID)
	s.m.enqueue(func() {
		for _, a := range anys {
			a(ev)
		}
		if fn != nil {
			fn(ev)
		}
	})
}
