package hostnative

import (
	"context"
	"encoding/json"
	"time"

	"github.com/siohost/siohost/core/abi"
)

// ClientEmitter sends events from a ClientSocket with options: Volatile,
// Timeout. It is a small value; build one per emit.
type ClientEmitter struct {
	s        *ClientSocket
	volatile bool
	timeout  time.Duration
}

// Volatile returns an emitter whose events are dropped, not buffered, when
// they cannot be written at once (not connected, or the transport busy).
func (s *ClientSocket) Volatile() ClientEmitter { return ClientEmitter{s: s, volatile: true} }

// Timeout returns an emitter whose EmitWithAck fails with ErrAckTimeout
// when the acknowledgement has not come within d.
func (s *ClientSocket) Timeout(d time.Duration) ClientEmitter { return ClientEmitter{s: s, timeout: d} }

// Volatile returns the emitter with the volatile flag set.
func (e ClientEmitter) Volatile() ClientEmitter { e.volatile = true; return e }

// Timeout returns the emitter with the ack timeout d.
func (e ClientEmitter) Timeout(d time.Duration) ClientEmitter { e.timeout = d; return e }

// Emit sends event with args (encoded as Socket.Emit's; []byte values are
// binary attachments). Emits made while the namespace is not connected
// are buffered until it is, unless volatile. With ManagerOptions.Retries,
// the emit is sent at least once (see there).
func (s *ClientSocket) Emit(event string, args ...any) error {
	return ClientEmitter{s: s}.Emit(event, args...)
}

// EmitWithAck sends event with args and waits for the server's
// acknowledgement, until ctx ends (then the pending ack is dropped, and
// the packet too if it was still buffered), or the ack timeout (Timeout,
// else ManagerOptions.AckTimeout) passes: ErrAckTimeout. It fails with
// ErrDisconnected when the connection is lost first, unless Retries sends
// it again.
func (s *ClientSocket) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	return ClientEmitter{s: s}.EmitWithAck(ctx, event, args...)
}

// EmitRaw sends event with args, a raw JSON array whose placeholders
// ({"_placeholder":true,"num":i}) stand for attachments.
func (s *ClientSocket) EmitRaw(event string, args json.RawMessage, attachments [][]byte) error {
	return ClientEmitter{s: s}.EmitRaw(event, args, attachments)
}

// EmitWithAckRaw is EmitWithAck with raw arguments (see EmitRaw).
func (s *ClientSocket) EmitWithAckRaw(ctx context.Context, event string, args json.RawMessage, attachments [][]byte) (*AckResponse, error) {
	return ClientEmitter{s: s}.EmitWithAckRaw(ctx, event, args, attachments)
}

// Emit sends event with args (see ClientSocket.Emit).
func (e ClientEmitter) Emit(event string, args ...any) error {
	body, atts, err := e.encode(event, args)
	if err != nil {
		return err
	}
	e.s.notifyOutgoing(event, args)
	_, err = e.send(event, body, atts, nil)
	return err
}

// EmitRaw sends event with raw arguments (see ClientSocket.EmitRaw).
func (e ClientEmitter) EmitRaw(event string, args json.RawMessage, attachments [][]byte) error {
	if err := checkRawEvent(event, args); err != nil {
		return err
	}
	_, err := e.send(event, args, attachments, nil)
	return err
}

func checkRawEvent(event string, args json.RawMessage) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	return checkRawArgs(args)
}

// EmitWithAck sends event with args and waits for the acknowledgement
// (see ClientSocket.EmitWithAck).
func (e ClientEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	body, atts, err := e.encode(event, args)
	if err != nil {
		return nil, err
	}
	e.s.notifyOutgoing(event, args)
	return e.waitAck(ctx, event, body, atts)
}

// EmitWithAckRaw is EmitWithAck with raw arguments (see EmitRaw).
func (e ClientEmitter) EmitWithAckRaw(ctx context.Context, event string, args json.RawMessage, attachments [][]byte) (*AckResponse, error) {
	if err := checkRawEvent(event, args); err != nil {
		return nil, err
	}
	return e.waitAck(ctx, event, args, attachments)
}

func (e ClientEmitter) waitAck(ctx context.Context, event string, body []byte, atts [][]byte) (*AckResponse, error) {
	ch := make(chan ackResult, 1)
	p, err := e.send(event, body, atts, func(r ackResult) { ch <- r })
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return ackResponse(r)
	case <-ctx.Done():
	}
	e.s.cancel(p)
	select {
	case r := <-ch:
		if r.err == nil {
			return ackResponse(r)
		}
	default:
	}
	return nil, ctx.Err()
}

func (e ClientEmitter) encode(event string, args []any) ([]byte, [][]byte, error) {
	if err := checkEventName(event); err != nil {
		return nil, nil, err
	}
	return encodeArgs(args)
}

// retryPacket is an emit in flight: with Retries, one of the socket's
// queue; else an emit waiting for its ack.
type retryPacket struct {
	event   string
	body    []byte
	atts    [][]byte
	done    func(ackResult) // nil: no one waits (Emit with Retries)
	timeout time.Duration
	tries   int
	pending bool  // sent, its ack awaited
	id      int64 // the ack id of the last send
}

// send emits the packet; done, when not nil, receives the ack.
func (e ClientEmitter) send(event string, body []byte, atts [][]byte, done func(ackResult)) (*retryPacket, error) {
	s := e.s
	m := s.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrManagerClosed
	}
	timeout := e.timeout
	if timeout == 0 {
		timeout = m.opts.AckTimeout
	}
	p := &retryPacket{event: event, body: body, atts: atts, done: done, timeout: timeout, id: -1}
	var err error
	switch {
	case e.volatile:
		// Dropped, as socket.io-client drops it, unless connected and the
		// transport can take it now.
		err = s.sendLocked(p, abi.EmitVolatile)
	case m.opts.Retries > 0:
		s.retryQ = append(s.retryQ, p)
		s.drainLocked(false)
	default:
		err = s.sendLocked(p, 0)
	}
	fl := m.applyLocked()
	m.mu.Unlock()
	fl.flush()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// sendLocked sends p once, registering its ack when someone waits for it.
func (s *ClientSocket) sendLocked(p *retryPacket, flags uint8) error {
	m := s.m
	var timeout uint32
	if p.done != nil {
		flags |= abi.EmitAck
		if p.timeout > 0 {
			timeout = clampU32(max(p.timeout.Milliseconds(), 1))
		}
	}
	id := m.core.Emit(m.now(), m.handle, s.nsp, p.event, p.body, p.atts, flags, timeout)
	switch id {
	case abi.EmitRefused:
		return m.refusedAfterLocked()
	case abi.EmitDropped:
		return nil
	}
	p.id, p.pending = id, true
	p.tries++
	if id >= 0 {
		m.acks[ackKey{s.nsp, id}] = func(r ackResult) { s.acked(p, r) }
	}
	return nil
}

// acked handles the ack (or its failure) of p's last send.
func (s *ClientSocket) acked(p *retryPacket, r ackResult) {
	p.pending = false
	if len(s.retryQ) == 0 || s.retryQ[0] != p || s.m.closed {
		if p.done != nil {
			p.done(r)
		}
		return
	}
	if r.err != nil && p.tries <= s.m.opts.Retries {
		s.drainLocked(false) // again, when connected
		return
	}
	s.retryQ[0] = nil
	s.retryQ = s.retryQ[1:]
	if p.done != nil {
		p.done(r)
	}
	s.drainLocked(false)
}

// drainLocked sends the head of the retry queue when the namespace is
// connected and it is not in flight (or force: after a reconnection).
func (s *ClientSocket) drainLocked(force bool) {
	if len(s.retryQ) == 0 || !s.connected {
		return
	}
	p := s.retryQ[0]
	if p.pending && !force {
		return
	}
	if p.pending {
		delete(s.m.acks, ackKey{s.nsp, p.id})
	}
	if p.done == nil {
		// Retried emits always ask for an ack: it is how they know
		// they arrived.
		p.done = func(ackResult) {}
	}
	if err := s.sendLocked(p, 0); err != nil {
		s.retryQ = s.retryQ[1:]
		p.done(ackResult{err: err})
	}
}

// cancel drops p: its ack is no longer awaited, and a packet still
// buffered or queued is not sent.
func (s *ClientSocket) cancel(p *retryPacket) {
	m := s.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	head := false
	for i, q := range s.retryQ {
		if q == p {
			s.retryQ = append(s.retryQ[:i], s.retryQ[i+1:]...)
			head = i == 0
			break
		}
	}
	if p.id >= 0 {
		if _, ok := m.acks[ackKey{s.nsp, p.id}]; ok {
			delete(m.acks, ackKey{s.nsp, p.id})
			m.core.CancelAck(m.now(), m.handle, s.nsp, uint32(p.id))
		}
	}
	if head {
		s.drainLocked(false)
	}
	fl := m.applyLocked()
	m.mu.Unlock()
	fl.flush()
}

func ackResponse(r ackResult) (*AckResponse, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &AckResponse{data: r.data, attachments: r.attachments}, nil
}
