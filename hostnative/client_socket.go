package hostnative

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/siohost/siohost/core/sio"
)

// ClientSocket is a Socket.IO client's connection to one namespace of a
// Manager's server (socket.io-client's Socket). Get one with
// Manager.Socket, set its handlers, then Connect.
type ClientSocket struct {
	m   *Manager
	nsp string

	// Guarded by m.mu.
	id           string
	connected    bool
	waiters      []chan error
	handlers     map[string]func(*ClientEvent)
	onDisconnect func(reason, description string)
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

// OnDisconnect sets the handler called when the namespace is disconnected,
// with socket.io-client's reason ("io server disconnect", "io client
// disconnect", "transport close", "ping timeout", …). Unless the reason is
// "io server disconnect" or "io client disconnect", the Manager reconnects
// and the namespace connects again.
func (s *ClientSocket) OnDisconnect(fn func(reason, description string)) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.onDisconnect = fn
}

// Connect joins the namespace and returns once the server accepted it; it
// returns a *ClientConnectError when the server refused it or the session
// could not be opened, or ctx's error. After an error the socket is left
// (as by Disconnect): nothing goes on in the background. Once connected,
// the namespace reconnects by itself after a lost session.
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
	ch := make(chan error, 1)
	s.waiters = append(s.waiters, ch)
	if err := m.cl.Connect(m.now(), s.nsp, m.auth, nil); err != nil {
		s.waiters = s.waiters[:len(s.waiters)-1]
		m.mu.Unlock()
		return err
	}
	m.applyLocked()
	m.ensureOpenLocked()
	m.mu.Unlock()
	var err error
	select {
	case err = <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		m.mu.Lock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				break
			}
		}
		if !s.connected {
			m.cl.Disconnect(m.now(), s.nsp)
			m.applyLocked()
			m.idleLocked()
		} else {
			err = nil
		}
		m.mu.Unlock()
	}
	return err
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
// session closes once no namespace of the Manager is connected.
func (s *ClientSocket) Disconnect() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cl.Disconnect(m.now(), s.nsp)
	m.applyLocked()
	s.wakeLocked(&ClientConnectError{Message: sio.ReasonIOClientDisconnect})
	m.idleLocked()
}

// encodeArgs encodes arguments as a raw JSON array and its attachments,
// as emits and acks do (see appendArg).
func encodeArgs(args []any) ([]byte, [][]byte, error) {
	var atts [][]byte
	body := []byte{'['}
	var err error
	for i, a := range args {
		if i > 0 {
			body = append(body, ',')
		}
		if body, err = appendArg(body, a, &atts, 0); err != nil {
			return nil, nil, err
		}
	}
	return append(body, ']'), atts, nil
}

// Emit sends event with args (encoded as Socket.Emit's; []byte values are
// binary attachments). Emits made while the namespace is not connected
// are buffered until it is.
func (s *ClientSocket) Emit(event string, args ...any) error {
	_, _, err := s.emit(event, args, false)
	return err
}

func (s *ClientSocket) emit(event string, args []any, wantAck bool) (int64, chan ackResult, error) {
	if err := checkEventName(event); err != nil {
		return -1, nil, err
	}
	body, atts, err := encodeArgs(args)
	if err != nil {
		return -1, nil, err
	}
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return -1, nil, ErrManagerClosed
	}
	id, err := m.cl.Emit(m.now(), s.nsp, event, body, atts, wantAck)
	if err != nil {
		return -1, nil, err
	}
	var ch chan ackResult
	if wantAck {
		ch = make(chan ackResult, 1)
		m.acks[ackKey{s.nsp, id}] = ch
	}
	m.applyLocked()
	return id, ch, nil
}

// EmitWithAck sends event with args and waits for the server's
// acknowledgement, until ctx ends (then the pending ack is dropped, and the
// packet too if it was still buffered). It fails with ErrDisconnected when
// the namespace is disconnected first.
func (s *ClientSocket) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	m := s.m
	id, ch, err := s.emit(event, args, true)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return ackResponse(r)
	case <-ctx.Done():
	}
	m.mu.Lock()
	if _, ok := m.acks[ackKey{s.nsp, id}]; ok {
		now := m.now()
		if m.cl.AckTimeout(s.nsp, id, now) {
			m.cl.Tick(now)
			m.applyLocked()
		}
		delete(m.acks, ackKey{s.nsp, id})
	}
	m.mu.Unlock()
	select {
	case r := <-ch:
		if r.err == nil {
			return ackResponse(r)
		}
	default:
	}
	return nil, ctx.Err()
}

func ackResponse(r ackResult) (*AckResponse, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &AckResponse{data: r.data, attachments: r.attachments}, nil
}

// ClientEvent is an event from the server. Its arguments stay raw JSON
// until asked for: Arg decodes one, binary arguments decode into []byte.
type ClientEvent struct {
	Socket *ClientSocket
	Name   string

	data        []byte
	attachments [][]byte
	args        [][]byte
	splitOnce   sync.Once
	id          int64
	acked       atomic.Bool
}

func (e *ClientEvent) split() {
	e.splitOnce.Do(func() {
		_, it := sio.EventName(e.data)
		e.args = [][]byte{}
		for {
			a, ok := it.Next()
			if !ok {
				return
			}
			e.args = append(e.args, a)
		}
	})
}

// Len returns the number of arguments.
func (e *ClientEvent) Len() int {
	e.split()
	return len(e.args)
}

// Arg decodes argument i into v, which must be a pointer (see Event.Arg).
func (e *ClientEvent) Arg(i int, v any) error {
	e.split()
	if i < 0 || i >= len(e.args) {
		return fmt.Errorf("siohost: event %q has no argument %d", e.Name, i)
	}
	return decodeArg(e.args[i], e.attachments, v)
}

// RawArgs returns the arguments as the server sent them; binary arguments
// appear as their placeholders (see Attachments).
func (e *ClientEvent) RawArgs() []json.RawMessage {
	e.split()
	out := make([]json.RawMessage, len(e.args))
	for i, a := range e.args {
		out[i] = a
	}
	return out
}

// Attachments returns the binary parts of the event, in placeholder order.
func (e *ClientEvent) Attachments() [][]byte { return e.attachments }

// HasAck reports whether the server expects an acknowledgement.
func (e *ClientEvent) HasAck() bool { return e.id >= 0 }

// Ack sends the acknowledgement the server asked for, once.
func (e *ClientEvent) Ack(args ...any) error {
	if e.id < 0 || !e.acked.CompareAndSwap(false, true) {
		return ErrNoAck
	}
	body, atts, err := encodeArgs(args)
	if err != nil {
		return err
	}
	m := e.Socket.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.cl.Ack(m.now(), e.Socket.nsp, e.id, body, atts); err != nil {
		return err
	}
	m.applyLocked()
	return nil
}
