package hostnative

import (
	"github.com/siohost/siohost/core/abi"

	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/siohost/siohost/core/sio"
)

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
