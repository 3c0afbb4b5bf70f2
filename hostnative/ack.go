package hostnative

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// ErrAckTimeout is returned when an acknowledgement did not come in time.
var ErrAckTimeout = errors.New("siohost: operation has timed out")

// AckResponse is a client's acknowledgement: its arguments, raw.
type AckResponse struct {
	// Socket that acknowledged (for broadcasts).
	Socket      *Socket
	data        []byte
	attachments [][]byte
	args        [][]byte
	splitOnce   sync.Once
}

// Len returns the number of arguments.
func (a *AckResponse) Len() int {
	a.split()
	return len(a.args)
}

func (a *AckResponse) split() {
	a.splitOnce.Do(func() {
		a.args = [][]byte{}
		it := sio.NewArrayIter(a.data)
		for {
			e, ok := it.Next()
			if !ok {
				return
			}
			a.args = append(a.args, e)
		}
	})
}

// Arg decodes argument i into v (binary into *[]byte).
func (a *AckResponse) Arg(i int, v any) error {
	a.split()
	if i < 0 || i >= len(a.args) {
		return errors.New("siohost: acknowledgement has no such argument")
	}
	return decodeArg(a.args[i], a.attachments, v)
}

// Raw returns the arguments as a raw JSON array, and the attachments.
func (a *AckResponse) Raw() (json.RawMessage, [][]byte) { return a.data, a.attachments }

// Emitter sends events from one socket with options: Timeout, Volatile,
// Compress.
type Emitter struct {
	s          *Socket
	timeout    time.Duration
	volatile   bool
	noCompress bool
}

// Timeout returns an emitter whose EmitWithAck waits at most d.
func (em *Emitter) Timeout(d time.Duration) *Emitter { c := *em; c.timeout = d; return &c }

// Volatile returns an emitter that drops the event if the client cannot
// take it at once.
func (em *Emitter) Volatile() *Emitter { c := *em; c.volatile = true; return &c }

// Compress returns an emitter whose events may be compressed (true, the
// default) or never are (false), as the reference's socket.compress: with
// false, their WebSocket frames are sent without per-message deflate, and
// a polling response made only of such packets without HTTP compression.
func (em *Emitter) Compress(compress bool) *Emitter { c := *em; c.noCompress = !compress; return &c }

// flags are the core's options for the emitter's packets.
func (em *Emitter) flags() sio.SendFlags { return sendFlags(em.volatile, em.noCompress) }

func sendFlags(volatile, noCompress bool) sio.SendFlags {
	var f sio.SendFlags
	if volatile {
		f |= sio.SendVolatile
	}
	if noCompress {
		f |= sio.SendNoCompress
	}
	return f
}

// Emit sends an event.
func (em *Emitter) Emit(event string, args ...any) error {
	s := em.s
	p, err := encodeEvent(s.ns.name, -1, event, args)
	if err != nil {
		return err
	}
	s.notifyOutgoing(event, args)
	return s.send(p, em.flags())
}

// EmitRaw sends an event with raw JSON arguments (see Socket.EmitRaw).
func (em *Emitter) EmitRaw(event string, args json.RawMessage, attachments [][]byte) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	if err := checkRawArgs(args); err != nil {
		return err
	}
	s := em.s
	body := eventBody(event, args)
	return s.send(rawPacket(s.ns.name, -1, sio.Event, body, attachments), em.flags())
}

// eventBody prepends the event name to a raw JSON array of arguments.
func eventBody(event string, args json.RawMessage) []byte {
	body := eio.AppendJSONString(append(make([]byte, 0, len(args)+len(event)+4), '['), event)
	it := sio.NewArrayIter(args)
	if rest := it.Rest(); len(rest) > 0 && rest[0] != ']' {
		body = append(body, ',')
		body = append(body, rest...)
	} else {
		body = append(body, ']')
	}
	return body
}

// EmitWithAck sends an event and waits for the acknowledgement, until ctx
// ends or the emitter's timeout passes.
func (em *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	s := em.s
	id := s.ns.ackIDs.Add(1) - 1
	p, err := encodeEvent(s.ns.name, id, event, args)
	if err != nil {
		return nil, err
	}
	ch, ok := s.registerAck(id)
	if !ok {
		return nil, ErrDisconnected
	}
	s.notifyOutgoing(event, args)
	if err := s.send(p, em.flags()); err != nil {
		s.dropAck(id)
		return nil, err
	}
	if em.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, em.timeout, ErrAckTimeout)
		defer cancel()
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return &AckResponse{Socket: s, data: r.data, attachments: r.attachments}, nil
	case <-ctx.Done():
		s.dropAck(id)
		return nil, context.Cause(ctx)
	}
}

func (s *Socket) notifyOutgoing(event string, args []any) {
	s.mu.Lock()
	fns := s.onAnyOut
	s.mu.Unlock()
	for _, fn := range fns {
		s.conn.sh.e.safely(func() { fn(event, args) })
	}
}
