package hostnative

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/siohost/siohost/core/sio"
)

// Event is an event received from a client. Its arguments stay raw JSON
// until a handler asks for them: Arg decodes one into a Go value, RawArgs
// gives the bytes as the client sent them. Binary arguments are []byte.
type Event struct {
	Socket *Socket
	Name   string
	eventArgs
}

// eventArgs are the arguments of a received event, and its ack id: what
// Event and ClientEvent share.
type eventArgs struct {
	name        string
	data        []byte   // the raw JSON array, name first
	attachments [][]byte // binary parts, by placeholder number
	args        [][]byte // raw arguments, split on first use
	splitOnce   sync.Once
	id          int64 // ack id, -1 when the peer expects none
	acked       atomic.Bool
}

// ErrNoAck is returned by Ack when the client did not ask for one or it was
// already sent.
var ErrNoAck = errors.New("siohost: no acknowledgement expected")

func newEvent(s *Socket, name string, data []byte, attachments [][]byte, id int64) *Event {
	return &Event{Socket: s, Name: name, eventArgs: eventArgs{name: name, data: data, attachments: attachments, id: id}}
}

func (e *eventArgs) split() {
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
func (e *eventArgs) Len() int {
	e.split()
	return len(e.args)
}

// RawArgs returns the arguments as the peer sent them; binary arguments
// appear as their placeholders (see Attachments).
func (e *eventArgs) RawArgs() []json.RawMessage {
	e.split()
	out := make([]json.RawMessage, len(e.args))
	for i, a := range e.args {
		out[i] = a
	}
	return out
}

// Attachments returns the binary parts of the event, in placeholder order.
func (e *eventArgs) Attachments() [][]byte { return e.attachments }

// Arg decodes argument i into v, which must be a pointer. A binary argument
// decodes into a *[]byte (or an *any); binary parts nested in objects and
// arrays appear as []byte when decoding into any.
func (e *eventArgs) Arg(i int, v any) error {
	e.split()
	if i < 0 || i >= len(e.args) {
		return fmt.Errorf("siohost: event %q has no argument %d", e.name, i)
	}
	return decodeArg(e.args[i], e.attachments, v)
}

// Args decodes every argument into a generic Go value (nil, bool, float64,
// string, []any, map[string]any, or []byte for binary).
func (e *eventArgs) Args() ([]any, error) {
	e.split()
	out := make([]any, len(e.args))
	for i := range e.args {
		if err := decodeArg(e.args[i], e.attachments, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ArgsJSON returns the arguments (without the name) as one raw JSON array,
// the form AckRaw and EmitRaw take.
func (e *eventArgs) ArgsJSON() json.RawMessage {
	_, it := sio.EventName(e.data)
	return append([]byte{'['}, it.Rest()...)
}

// HasAck reports whether the peer expects an acknowledgement.
func (e *eventArgs) HasAck() bool { return e.id >= 0 }

// claimAck reports whether an ack is expected and not sent yet, and marks
// it sent.
func (e *eventArgs) claimAck() bool { return e.id >= 0 && e.acked.CompareAndSwap(false, true) }

// Ack sends the acknowledgement the client asked for, once.
func (e *Event) Ack(args ...any) error {
	if !e.claimAck() {
		return ErrNoAck
	}
	p, err := encodeAck(e.Socket.ns.name, e.id, args)
	if err != nil {
		return err
	}
	return e.Socket.send(p, 0)
}

// AckRaw acknowledges with the raw JSON array args and its attachments,
// as received elsewhere (an echo re-sends exactly the bytes it got).
func (e *Event) AckRaw(args json.RawMessage, attachments [][]byte) error {
	if err := checkRawArgs(args); err != nil {
		return err
	}
	if !e.claimAck() {
		return ErrNoAck
	}
	return e.Socket.send(rawPacket(e.Socket.ns.name, e.id, sio.Ack, args, attachments), 0)
}

// decodeArg decodes one raw argument, resolving binary placeholders.
func decodeArg(raw []byte, atts [][]byte, v any) error {
	if len(atts) > 0 {
		if num, ok := placeholderNum(raw); ok {
			if num >= len(atts) {
				return errors.New("siohost: placeholder out of range")
			}
			switch p := v.(type) {
			case *[]byte:
				*p = atts[num]
				return nil
			case *any:
				*p = atts[num]
				return nil
			}
			return fmt.Errorf("siohost: binary argument cannot decode into %T", v)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return err
	}
	if len(atts) > 0 {
		if p, ok := v.(*any); ok {
			*p = resolvePlaceholders(*p, atts)
		}
	}
	return nil
}

// placeholderNum reports whether raw is exactly a placeholder object.
func placeholderNum(raw []byte) (int, bool) {
	num, found := -1, false
	sio.Placeholders(raw, func(start, end, n int) bool {
		if start == 0 && end == len(raw) {
			num, found = n, true
		}
		return false
	})
	return num, found && num >= 0
}

func resolvePlaceholders(v any, atts [][]byte) any {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph {
			if n, ok := x["num"].(float64); ok && n >= 0 && int(n) < len(atts) && n == float64(int(n)) {
				return atts[int(n)]
			}
		}
		for k, e := range x {
			x[k] = resolvePlaceholders(e, atts)
		}
	case []any:
		for i, e := range x {
			x[i] = resolvePlaceholders(e, atts)
		}
	}
	return v
}

// On registers a handler for event whose first argument is decoded into a
// T (a []byte for binary); a client that sends something else is reported
// to the socket's OnError handler and the handler does not run.
//
//	hostnative.On(s, "chat", func(msg ChatMessage, ev *hostnative.Event) { … })
func On[T any](s *Socket, event string, fn func(v T, ev *Event)) {
	s.On(event, func(ev *Event) {
		var v T
		if err := ev.Arg(0, &v); err != nil {
			s.reportError(fmt.Errorf("siohost: event %q: %w", event, err))
			return
		}
		fn(v, ev)
	})
}
