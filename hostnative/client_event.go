package hostnative

import "github.com/siohost/siohost/core/abi"

// ClientEvent is an event from the server. Its arguments stay raw JSON
// until asked for: Arg decodes one, binary arguments decode into []byte
// (the methods are Event's).
type ClientEvent struct {
	Socket *ClientSocket
	Name   string
	eventArgs
}

func newClientEvent(s *ClientSocket, name string, data []byte, attachments [][]byte, id int64) *ClientEvent {
	return &ClientEvent{Socket: s, Name: name, eventArgs: eventArgs{name: name, data: data, attachments: attachments, id: id}}
}

// Ack sends the acknowledgement the server asked for, once.
func (e *ClientEvent) Ack(args ...any) error {
	if !e.claimAck() {
		return ErrNoAck
	}
	body, atts, err := encodeArgs(args)
	if err != nil {
		return err
	}
	m := e.Socket.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrManagerClosed
	}
	err = nil
	if m.core.Ack(m.now(), m.handle, e.Socket.nsp, uint32(e.id), body, atts) == abi.EmitRefused {
		err = m.refusedAfterLocked()
	}
	fl := m.applyLocked()
	m.mu.Unlock()
	fl.flush()
	return err
}
