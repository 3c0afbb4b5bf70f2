package hostnative

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/siohost/siohost/core/sio"
)

// Broadcast selects sockets of a namespace (To, Except, Local) and sends
// them an event, encoded once for all of them, or applies a bulk operation.
// Each method returns a new Broadcast, so a value can be reused.
type Broadcast struct {
	ns         *Namespace
	rooms      []string
	except     []string
	local      bool
	volatile   bool
	noCompress bool
	timeout    time.Duration
}

func (b *Broadcast) clone() *Broadcast {
	c := *b
	c.rooms = slices.Clone(b.rooms)
	c.except = slices.Clone(b.except)
	return &c
}

// To adds rooms to the selection (a socket in any of them is selected).
func (b *Broadcast) To(rooms ...string) *Broadcast {
	c := b.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// In is To.
func (b *Broadcast) In(rooms ...string) *Broadcast { return b.To(rooms...) }

// Except excludes the sockets in any of rooms.
func (b *Broadcast) Except(rooms ...string) *Broadcast {
	c := b.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Local restricts the broadcast to this server.
func (b *Broadcast) Local() *Broadcast { c := b.clone(); c.local = true; return c }

// Volatile drops the event for clients that cannot take it at once.
func (b *Broadcast) Volatile() *Broadcast { c := b.clone(); c.volatile = true; return c }

// Compress makes the event compressible (true, the default) or never
// compressed (false), as the reference's compress flag: see
// Emitter.Compress.
func (b *Broadcast) Compress(compress bool) *Broadcast {
	c := b.clone()
	c.noCompress = !compress
	return c
}

// Timeout sets how long EmitWithAck waits for the acknowledgements.
func (b *Broadcast) Timeout(d time.Duration) *Broadcast { c := b.clone(); c.timeout = d; return c }

func (b *Broadcast) opts() BroadcastOptions {
	return BroadcastOptions{Rooms: b.rooms, Except: b.except, Local: b.local, Volatile: b.volatile, NoCompress: b.noCompress}
}

// Emit sends an event to the selected sockets.
func (b *Broadcast) Emit(event string, args ...any) error {
	var offset string
	if b.ns.saved != nil && !b.volatile {
		// The offset a recovering client names its last event by.
		offset = b.ns.saved.nextOffset()
		args = append(args[:len(args):len(args)], offset)
	}
	p, err := encodeEvent(b.ns.name, -1, event, args)
	if err != nil {
		return err
	}
	if offset != "" {
		b.ns.saved.record(offset, p, b.opts())
	}
	b.ns.adapter.Broadcast(p, b.opts())
	return nil
}

// EmitRaw sends an event whose arguments are a raw JSON array (with
// placeholders for attachments) to the selected sockets, as received: no
// decoding, no re-encoding.
func (b *Broadcast) EmitRaw(event string, args json.RawMessage, attachments [][]byte) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	if err := checkRawArgs(args); err != nil {
		return err
	}
	var offset string
	if b.ns.saved != nil && !b.volatile {
		offset = b.ns.saved.nextOffset()
		args = appendOffset(args, offset)
	}
	p := rawPacket(b.ns.name, -1, sio.Event, eventBody(event, args), attachments)
	if offset != "" {
		b.ns.saved.record(offset, p, b.opts())
	}
	b.ns.adapter.Broadcast(p, b.opts())
	return nil
}

// ErrSomeAcksMissing is returned by a broadcast EmitWithAck when some
// sockets did not acknowledge in time; the responses that came are
// returned with it.
var ErrSomeAcksMissing = errors.New("siohost: operation has timed out")

// EmitWithAck sends an event to the selected sockets and collects their
// acknowledgements until all came, ctx ended, or the timeout passed.
func (b *Broadcast) EmitWithAck(ctx context.Context, event string, args ...any) ([]*AckResponse, error) {
	ns := b.ns
	id := ns.ackIDs.Add(1) - 1
	p, err := encodeEvent(ns.name, id, event, args)
	if err != nil {
		return nil, err
	}
	// Every recipient registers the same id, so the packet is encoded once;
	// their acks all arrive on one channel.
	ids := ns.adapter.Sockets(b.opts())
	ch := make(chan ackResult, len(ids))
	var waiting []*Socket
	for _, sid := range ids {
		if s := ns.socket(sid); s != nil && s.registerAckTo(id, ch) {
			waiting = append(waiting, s)
		}
	}
	defer func() {
		for _, s := range waiting {
			s.dropAck(id)
		}
	}()
	// Only the sockets the packet reached can answer (volatile drops and
	// sockets gone meanwhile cannot).
	sent := ns.deliver(ids, p, b.opts().flags())
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.timeout, ErrSomeAcksMissing)
		defer cancel()
	}
	out := make([]*AckResponse, 0, sent)
	for range min(sent, len(waiting)) {
		select {
		case r := <-ch:
			if r.err == nil {
				out = append(out, &AckResponse{Socket: r.from, data: r.data, attachments: r.attachments})
			}
		case <-ctx.Done():
			return out, context.Cause(ctx)
		}
	}
	return out, nil
}

// FetchSockets returns the selected sockets.
func (b *Broadcast) FetchSockets() []*Socket {
	var out []*Socket
	for _, id := range b.ns.adapter.Sockets(b.opts()) {
		if s := b.ns.socket(id); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// SocketsJoin makes the selected sockets join rooms.
func (b *Broadcast) SocketsJoin(rooms ...string) { b.ns.adapter.AddSockets(b.opts(), rooms) }

// SocketsLeave makes the selected sockets leave rooms.
func (b *Broadcast) SocketsLeave(rooms ...string) { b.ns.adapter.DelSockets(b.opts(), rooms) }

// DisconnectSockets disconnects the selected sockets.
func (b *Broadcast) DisconnectSockets(close bool) { b.ns.adapter.DisconnectSockets(b.opts(), close) }
