package hostnative

import (
	"encoding/json"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// How a Manager carries out its sio client's effects, and the queue its
// handlers run on.

// applyLocked carries out the sio client's effects. Nothing calls back
// into m.cl while the list is read (it is reused): what would (ack
// callbacks, the retry queues) runs after, and its effects in a next
// round.
func (m *Manager) applyLocked() {
	for {
		effs := m.cl.Effects()
		if len(effs) == 0 {
			break
		}
		var post []func()
		for i := range effs {
			m.applyOneLocked(&effs[i], &post)
		}
		for _, fn := range post {
			fn()
		}
	}
	m.armAcksLocked()
}

func (m *Manager) applyOneLocked(e *sio.ClientEffect, post *[]func()) {
	switch e.Kind {
	case sio.CEffSend:
		if m.eng != nil {
			_ = m.eng.ec.Send(e.Data, e.Binary)
		}
	case sio.CEffCloseEngine:
		if me := m.eng; me != nil {
			m.eng = nil
			me.cancel()
			_ = me.ec.Close()
		}
		if e.Text == eio.ReasonParseError && !m.closed {
			if at, ok := m.rec.Closed(m.now(), e.Text); ok {
				m.scheduleLocked(at)
			}
		} else {
			m.rec.Stop()
			m.recTimer.Stop()
		}
	case sio.CEffConnected:
		if s := m.sockets[e.Nsp]; s != nil {
			s.id, s.connected, s.recovered = e.Text, true, e.Recovered
			s.wakeLocked(nil)
			if fn := s.onConnect; fn != nil {
				m.enqueue(fn)
			}
			*post = append(*post, func() { s.drainLocked(true) })
		}
	case sio.CEffConnectError:
		if s := m.sockets[e.Nsp]; s != nil {
			m.connectErrorLocked(s, e)
		}
	case sio.CEffEvent:
		if s := m.sockets[e.Nsp]; s != nil {
			s.deliverLocked(e)
		}
	case sio.CEffAck:
		if fn := m.acks[ackKey{e.Nsp, e.ID}]; fn != nil {
			delete(m.acks, ackKey{e.Nsp, e.ID})
			r := ackResult{data: append([]byte(nil), e.Data...), attachments: cloneAttachments(e.Attachments)}
			*post = append(*post, func() { fn(r) })
		}
	case sio.CEffAckFailed:
		if fn := m.acks[ackKey{e.Nsp, e.ID}]; fn != nil {
			delete(m.acks, ackKey{e.Nsp, e.ID})
			err := ErrDisconnected
			if e.Text == sio.AckTimedOut {
				err = ErrAckTimeout
			}
			*post = append(*post, func() { fn(ackResult{err: err}) })
		}
	case sio.CEffDisconnect:
		if s := m.sockets[e.Nsp]; s != nil {
			m.disconnectedLocked(s, e)
		}
	case sio.CEffError:
		m.logger.Warn("siohost: socket.io client", "err", e.Err)
	}
}

// connectErrorLocked reports a namespace that could not connect: to its
// OnConnectError handler, and to Connect unless the Manager goes on trying
// (an engine failure with reconnection on).
func (m *Manager) connectErrorLocked(s *ClientSocket, e *sio.ClientEffect) {
	var ce *ClientConnectError
	if m.engErr != nil {
		ce = engineFailure(m.engErr)
	} else {
		ce = &ClientConnectError{Message: e.Text}
		if e.Data != nil {
			ce.Data = append(json.RawMessage(nil), e.Data...)
		}
		if e.Err != nil {
			ce.Err = e.Err
			ce.Description = e.Err.Hint
		}
	}
	if fn := s.onConnectError; fn != nil {
		m.enqueue(func() { fn(ce) })
	}
	if m.engErr == nil {
		s.wakeLocked(ce)
	}
}

// disconnectedLocked reports a namespace that is no longer connected.
func (m *Manager) disconnectedLocked(s *ClientSocket, e *sio.ClientEffect) {
	s.id, s.connected = "", false
	if !sio.ReconnectAfter(e.Text) {
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
			m.qmu.Unlock()
			return
		}
		fn := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
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
