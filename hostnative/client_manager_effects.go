package hostnative

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// How a Manager carries out its client core's effects, and the queue its
// handlers run on.

// applyLocked carries out the core's effects: connections start, frames
// are queued (the caller flushes fl once unlocked), the application hears
// the rest. Nothing calls into the core while its list is read (the next
// call reuses it): what would (ack callbacks, the retry queues, auth
// answers) runs after, and its effects in a next round.
func (m *Manager) applyLocked() clientFlush {
	fl := m.pend
	m.pend = clientFlush{}
	for {
		effs, err := m.core.Effects()
		if err != nil {
			m.coreFailedLocked(err)
			return fl
		}
		if len(effs) == 0 {
			break
		}
		var post []func()
		for i := range effs {
			m.applyOneLocked(&effs[i], &fl, &post)
		}
		if m.giveUp != nil {
			err := m.giveUp
			m.giveUp = nil
			post = append(post, func() { m.giveUpLocked(err) })
		}
		for _, fn := range post {
			fn()
		}
	}
	// A refused command met in a post function applied its effects and
	// left its frames here.
	fl.merge(m.pend)
	m.pend = clientFlush{}
	m.rearmLocked()
	return fl
}

func (m *Manager) applyOneLocked(e *eio.Effect, fl *clientFlush, post *[]func()) {
	conn := e.Conn
	switch e.Kind {
	case abi.CEffRequest:
		m.io.request(conn, e.Text, e.Desc, eio.Content(e.Content), e.Data)
	case abi.CEffWSOpen:
		m.io.dial(conn, e.Desc)
	case abi.CEffWSSend:
		m.io.write(conn, e.Binary, e.Prefix, e.Data, fl)
	case abi.CEffConnClose:
		m.io.closeConn(conn, fl)
	case abi.CEffEngineOpen:
		m.opening, m.opened, m.transport = false, true, e.Text
		m.lastFailure = nil
		if fn := m.h.open; fn != nil {
			m.enqueue(fn)
		}
		if fn, n := m.h.reconnect, m.reconnN; fn != nil && n > 0 {
			m.enqueue(func() { fn(n) })
		}
		m.reconnN = 0
	case abi.CEffUpgrade:
		m.transport = e.Text
		if fn := m.h.upgrade; fn != nil {
			tr := e.Text
			m.enqueue(func() { fn(tr) })
		}
	case abi.CEffEngineDropped:
		m.opening = false
		m.idleConnsLocked()
	case abi.CEffEngineClose:
		m.opened, m.opening, m.transport = false, false, ""
		if e.Text == eio.ReasonForcedClose {
			// The client closed it (its last namespace left, or Close):
			// no failure to report, but socket.io-client's Manager still
			// emits "close".
			m.idleConnsLocked()
			if fn := m.h.close; fn != nil {
				m.enqueue(func() { fn(eio.ReasonForcedClose, nil) })
			}
			return
		}
		err := &EngineError{Reason: e.Text, Description: e.Desc, Diagnostic: parseEngineContext(e.Data), Cause: m.cause}
		m.closeErr = err
		if m.opts.NoReconnection {
			m.giveUp = &ClientConnectError{Message: e.Text, Description: e.Desc, Err: err}
		}
		if fn := m.h.close; fn != nil {
			reason, details := e.Text, closeDetails(err)
			*post = append(*post, func() { m.enqueue(func() { fn(reason, details) }) })
		}
		*post = append(*post, func() { m.closeErr = nil })
		m.idleConnsLocked()
	case abi.CEffEngineError:
		m.opening = false
		err := &EngineError{Reason: eio.ReasonTransportError, Description: e.Desc, Diagnostic: parseEngineContext(e.Data), Cause: m.cause}
		m.engErr = err
		m.lastFailure = engineFailure(err)
		if fn := m.h.err; fn != nil {
			m.enqueue(func() { fn(err) })
		}
		if m.opts.NoReconnection {
			m.giveUp = engineFailure(err)
		}
		*post = append(*post, func() { m.engErr = nil })
		m.idleConnsLocked()
	case abi.CEffAuth:
		if s := m.sockets[e.Nsp]; s != nil {
			*post = append(*post, func() { m.answerAuthLocked(s) })
		}
	case abi.CEffPriorWebSocket:
		if m.opts.RememberUpgrade {
			priorWebSocket.Store(m.ep.key, e.Binary)
		}
	case abi.CEffConnected:
		if s := m.sockets[e.Nsp]; s != nil {
			s.id, s.connected, s.recovered, s.authFresh = e.Text, true, e.Binary, false
			s.unanswered = 0
			s.wakeLocked(nil)
			if fn := s.onConnect; fn != nil {
				m.enqueue(fn)
			}
			*post = append(*post, func() { s.drainLocked(true) })
		}
	case abi.CEffConnectError:
		if s := m.sockets[e.Nsp]; s != nil {
			m.connectErrorLocked(s, e)
		}
	case abi.CEffEvent:
		if s := m.sockets[e.Nsp]; s != nil {
			s.deliverLocked(e)
		}
	case abi.CEffAck:
		if fn := m.acks[ackKey{e.Nsp, e.ID}]; fn != nil {
			delete(m.acks, ackKey{e.Nsp, e.ID})
			r := ackResult{data: append([]byte(nil), e.Data...), attachments: cloneAttachments(e.Attachments)}
			*post = append(*post, func() { fn(r) })
		}
	case abi.CEffAckFailed:
		if fn := m.acks[ackKey{e.Nsp, e.ID}]; fn != nil {
			delete(m.acks, ackKey{e.Nsp, e.ID})
			err := ErrDisconnected
			if e.Text == sio.AckTimedOut {
				err = ErrAckTimeout
			}
			*post = append(*post, func() { fn(ackResult{err: err}) })
		}
	case abi.CEffDisconnect:
		if s := m.sockets[e.Nsp]; s != nil {
			m.disconnectedLocked(s, e)
		}
	case abi.CEffError:
		m.refusal = e.Text
		m.logger.Warn("siohost: socket.io client", "nsp", e.Nsp, "err", e.Text)
	case abi.CEffReconnectAttempt:
		n := int(e.Status)
		m.reconnN, m.opening = n, true
		if fn := m.h.reconnectAttempt; fn != nil {
			m.enqueue(func() { fn(n) })
		}
	case abi.CEffReconnect:
		m.reconnN = int(e.Status)
	case abi.CEffReconnectError:
		if fn, err := m.h.reconnectErr, m.engErr; fn != nil && err != nil {
			m.enqueue(func() { fn(err) })
		}
	case abi.CEffReconnectFailed:
		if fn := m.h.reconnectFailed; fn != nil {
			m.enqueue(fn)
		}
		m.giveUp = m.lastFailure
		if m.giveUp == nil {
			m.giveUp = &ClientConnectError{Message: "reconnect failed"}
		}
	}
}

// idleConnsLocked lets the HTTP transport's idle connections go between
// sessions, as a session of its own would.
func (m *Manager) idleConnsLocked() {
	if m.io.owned != nil {
		m.io.owned.CloseIdleConnections()
	}
}

// answerAuthLocked gives the core the auth of s for the CONNECT of a new
// session: the one Connect just computed, else its AuthFunc's, called
// without the lock (it may do I/O), bounded by the handshake timeout.
func (m *Manager) answerAuthLocked(s *ClientSocket) {
	src := s.auth
	switch {
	case s.authFresh:
		s.authFresh = false
		m.core.Connect(m.now(), m.handle, s.nsp, s.freshAuth, abi.ConnectAuthHost)
		return
	case src.fn == nil:
		m.core.Connect(m.now(), m.handle, s.nsp, src.raw, 0)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), m.opts.Timeout)
		raw, err := src.resolve(ctx)
		cancel()
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return
		}
		if err != nil {
			m.core.Disconnect(m.now(), m.handle, s.nsp)
			s.active = false
			s.wakeLocked(&ClientConnectError{Message: "auth: " + err.Error(), Err: err})
		} else {
			m.core.Connect(m.now(), m.handle, s.nsp, raw, abi.ConnectAuthHost)
		}
		fl := m.applyLocked()
		m.mu.Unlock()
		fl.flush()
	}()
}

// giveUpLocked leaves the namespaces still waiting for a connection once
// the core will not try again: their Connect calls return the failure.
func (m *Manager) giveUpLocked(err *ClientConnectError) {
	for name, s := range m.sockets {
		if s.active && !s.connected {
			s.active = false
			m.core.Disconnect(m.now(), m.handle, name)
			s.wakeLocked(err)
		}
	}
}

// coreFailedLocked handles a client core that stopped (a guest that
// trapped): what waits on it fails, and the Manager is closed.
func (m *Manager) coreFailedLocked(err error) {
	if m.closed {
		return
	}
	m.logger.Error("siohost: client core failed", "err", err)
	m.closed = true
	m.opened, m.opening = false, false
	ce := &ClientConnectError{Message: "transport error", Err: err}
	for _, s := range m.sockets {
		if s.connected {
			s.connected, s.id = false, ""
			if fn := s.onDisconnect; fn != nil {
				m.enqueue(func() { fn(eio.ReasonTransportError, &DisconnectDetails{Description: err.Error(), Err: err}) })
			}
		}
		s.wakeLocked(ce)
	}
	for k, fn := range m.acks {
		delete(m.acks, k)
		fn(ackResult{err: ErrDisconnected})
	}
	m.timer.stop()
	go func() {
		forgetManager(m)
		m.io.abort()
		m.release()
	}()
}

// connectErrorLocked reports a namespace that could not connect: to its
// OnConnectError handler, and to Connect unless the Manager goes on trying
// (an engine failure with reconnection on).
func (m *Manager) connectErrorLocked(s *ClientSocket, e *eio.Effect) {
	s.authFresh = false
	var ce *ClientConnectError
	switch {
	case e.Status == abi.ConnectErrTransport && m.engErr != nil:
		ce = engineFailure(m.engErr)
	case e.Status == abi.ConnectErrTransport:
		ce = &ClientConnectError{Message: e.Text, Description: e.Desc, Context: parseEngineContext(e.Data)}
	case e.Status == abi.ConnectErrProtocol:
		ce = &ClientConnectError{Message: e.Text}
		if se := parseSioContext(e.Data); se != nil {
			ce.Err, ce.Description = se, se.Hint
		}
	default:
		ce = &ClientConnectError{Message: e.Text}
		if e.Data != nil {
			ce.Data = append(json.RawMessage(nil), e.Data...)
		}
	}
	if fn := s.onConnectError; fn != nil {
		m.enqueue(func() { fn(ce) })
	}
	if e.Status != abi.ConnectErrTransport {
		s.active = false
		s.wakeLocked(ce)
	}
}

// disconnectedLocked reports a namespace that is no longer connected.
func (m *Manager) disconnectedLocked(s *ClientSocket, e *eio.Effect) {
	if !s.connected && s.active && e.Text == eio.ReasonTransportClose {
		s.unanswered++ // the session ended with the CONNECT unanswered
	}
	s.id, s.connected, s.authFresh = "", false, false
	if !sio.ReconnectAfter(e.Text) {
		s.active = false
		s.wakeLocked(&ClientConnectError{Message: e.Text})
	}
	for _, p := range s.retryQ {
		p.pending = false
	}
	fn := s.onDisconnect
	if fn == nil {
		return
	}
	reason := e.Text
	var details *DisconnectDetails
	switch {
	case m.closeErr != nil:
		details = closeDetails(m.closeErr)
	case e.Desc != "":
		details = &DisconnectDetails{Description: e.Desc}
	}
	m.enqueue(func() { fn(reason, details) })
}

// parseEngineContext rebuilds the diagnostic of a JSON context (nil for
// none).
func parseEngineContext(b []byte) *eio.ClientError {
	if b == nil {
		return nil
	}
	var c struct {
		Kind, Op, Transport, Message, ContentType, Body, Hint string
		Status, Code, ServerProtocol                          int
	}
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	d := &eio.ClientError{Op: c.Op, Transport: c.Transport, Status: c.Status, Code: c.Code, Message: c.Message,
		ContentType: c.ContentType, Body: c.Body, ServerProtocol: c.ServerProtocol, Hint: c.Hint}
	for k := eio.ClientErrorKind(1); k < 32; k++ {
		if k.String() == c.Kind {
			d.Kind = k
			break
		}
	}
	return d
}

// parseSioContext rebuilds a Socket.IO protocol failure (nil for none).
func parseSioContext(b []byte) *sio.ClientError {
	if b == nil {
		return nil
	}
	var c struct{ Kind, Nsp, Message, Packet, Hint string }
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	e := &sio.ClientError{Nsp: c.Nsp, Message: c.Message, Packet: c.Packet, Hint: c.Hint}
	for k := sio.ClientErrorKind(1); k < 32; k++ {
		if k.String() == c.Kind {
			e.Kind = k
			break
		}
	}
	return e
}

// refusedAfterLocked applies the effects of a refused command, whose error
// effect names the reason, and returns that reason; the frames queued
// meanwhile wait in m.pend for the caller's next apply.
func (m *Manager) refusedAfterLocked() error {
	m.pend = m.applyLocked()
	return m.refusedLocked()
}

// refusedLocked is the error of a command the core refused: the sio error
// its error effect names, else one with its text.
func (m *Manager) refusedLocked() error {
	text := m.refusal
	m.refusal = ""
	for _, e := range [...]error{sio.ErrUnknownNamespace, sio.ErrInvalidNamespace, sio.ErrInvalidAuth,
		sio.ErrInvalidArgs, sio.ErrTooManyAttachments, sio.ErrNotConnected} {
		if e.Error() == text {
			return e
		}
	}
	if text == "" {
		text = "refused by the client core"
	}
	return errors.New(text)
}

func (m *Manager) failWaitersLocked(err error) {
	for _, s := range m.sockets {
		s.wakeLocked(err)
	}
}

func cloneAttachments(in [][]byte) [][]byte {
	if len(in) == 0 {
		return nil
	}
	out := make([][]byte, len(in))
	for i, a := range in {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// enqueue runs fn after the handlers queued before it, on the Manager's
// handler goroutine.
func (m *Manager) enqueue(fn func()) {
	m.qmu.Lock()
	m.queue = append(m.queue, fn)
	if m.qRunning {
		m.qmu.Unlock()
		return
	}
	m.qRunning = true
	m.qmu.Unlock()
	go m.runQueue()
}

func (m *Manager) runQueue() {
	for {
		m.qmu.Lock()
		if len(m.queue) == 0 {
			m.queue = nil
			m.qRunning = false
			m.qcond.Broadcast()
			m.qmu.Unlock()
			return
		}
		fn := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		if len(m.queue) < clientQueueLow {
			m.qcond.Broadcast()
		}
		m.qmu.Unlock()
		m.call(fn)
	}
}

func (m *Manager) call(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			m.logger.Error("siohost: client handler panicked", "panic", r)
		}
	}()
	fn()
}
