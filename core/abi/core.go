package abi

import (
	"math/rand/v2"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Core runs one eio.Server, and a sio.Server over it when configured,
// behind the ABI: input records in, an output list of effects, results and
// the next deadline out. The WebAssembly module wraps exactly this type, and
// a native host can drive it directly, so both decode the same bytes with
// the same code. Like the servers, a Core is driven by one goroutine at a
// time.
type Core struct {
	e       *eio.Server
	s       *sio.Server
	rnd     random
	ins     Inputs
	strings Interner
}

// New returns a Core with configuration c. system is the platform's secure
// random source, used when c.Random is RandomSystem.
func New(c Config, system func([]byte)) (*Core, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	core := &Core{}
	core.rnd = random{entropy: append([]byte(nil), c.Entropy...), system: system}
	if c.Random == RandomSeeded {
		core.rnd.seeded = rand.NewChaCha8(c.Seed)
	}
	core.e = eio.NewServer(c.Engine(core.rnd.fill))
	if c.SocketIO {
		core.s = sio.NewServer(core.e, sio.Config{ConnectTimeout: c.ConnectTimeout, Parser: c.Parser})
	}
	return core, nil
}

// Engine returns the Engine.IO server.
func (c *Core) Engine() *eio.Server { return c.e }

// SocketIO returns the Socket.IO server, or nil when it is off.
func (c *Core) SocketIO() *sio.Server { return c.s }

// Process runs the n input records at the start of in, at time now, and
// appends the output list to out[:0]: for each input its effects and its
// result record, then the deadline record. Nothing runs when a record is
// invalid.
//
// Data that the core may keep across calls (the parts of a binary
// Socket.IO packet waiting for the rest) is copied out of in, so a host may
// reuse in as soon as Process returns; effects never alias it.
func (c *Core) Process(out []byte, now int64, in []byte, n int) ([]byte, error) {
	if err := c.ins.Decode(in, n); err != nil {
		return out[:0], err
	}
	out = out[:0]
	for i := range c.ins.List {
		out = c.run(out, now, &c.ins.List[i])
	}
	at, ok := c.e.NextDeadline()
	return AppendDeadline(out, at, ok), nil
}

// Tick runs the timers due at now; its output is that of a batch of one
// tick record.
func (c *Core) Tick(out []byte, now int64) []byte {
	c.e.Tick(now)
	out = c.effects(out[:0], &Result{})
	at, ok := c.e.NextDeadline()
	return AppendDeadline(out, at, ok)
}

// NextDeadline returns the earliest time at which the host must call Tick,
// and false when no timer is pending.
func (c *Core) NextDeadline() (int64, bool) { return c.e.NextDeadline() }

func (c *Core) run(out []byte, now int64, in *Input) []byte {
	e, s := c.e, c.s
	var res Result
	switch in.Kind {
	case InRequest:
		r := eio.Request{
			Conn: in.Conn, Method: c.strings.String(in.Method), EIO: c.strings.String(in.EIO),
			Transport: c.strings.String(in.Transport), SID: string(in.SID),
			B64: in.Flags&ReqB64 != 0, Upgrade: in.Flags&ReqUpgrade != 0, Binary: in.Flags&ReqBinary != 0,
			Origin: string(in.Origin), BadOrigin: in.Flags&ReqBadOrigin != 0,
			Refused: in.Flags&ReqRefused != 0, RefusedMessage: string(in.Text),
			JSONP: in.Flags&ReqJSONP != 0, J: string(in.J), ID: string(in.ID),
			IDFailed: in.Flags&ReqIDFailed != 0,
		}
		res.Value = int64(e.Request(now, &r))
	case InBody:
		e.Body(now, in.Conn, in.Session, c.keep(in.Data, true), eio.BodyStatus(in.Flags))
	case InFrame:
		e.Frame(now, in.Conn, in.Session, in.Binary(), c.keep(in.Data, in.Binary() || binaryHeader(in.Data)))
	case InClosed:
		e.ConnClosed(now, in.Conn, in.Session, in.Flags&flagOne != 0)
	case InSend:
		res.Value = b2i(e.Send(now, in.Session, in.Binary(), in.Data))
	case InClose:
		e.CloseSessionDesc(now, in.Session, c.strings.String(in.Text), c.strings.String(in.Desc))
	case InCloseAll:
		e.CloseAll(now, c.strings.String(in.Text))
	case InTick:
		e.Tick(now)
	case InAccept:
		if s != nil {
			res.Value = b2i(s.Accept(now, in.Session, c.strings.String(in.Nsp), string(in.SID), string(in.PID)))
		}
	case InRefuse:
		if s != nil {
			s.Refuse(now, in.Session, c.strings.String(in.Nsp), string(in.Text), in.Data)
		}
	case InEmit:
		if s != nil {
			res.Value = b2i(s.Send(now, in.Session, c.strings.String(in.Nsp), in.Data, in.Attachments, sio.SendFlags(in.Flags)))
		}
	case InLeave:
		if s != nil {
			res.Value = b2i(s.Leave(now, in.Session, c.strings.String(in.Nsp)))
		}
	case InBroadcast:
		if s != nil {
			res.Value = int64(s.Broadcast(now, in.Handles, c.strings.String(in.Nsp), in.Data, in.Attachments, sio.SendFlags(in.Flags)))
		}
	case InInfo:
		res.Value = int64(e.Protocol(in.Session))
		if res.Value != 0 {
			res.SID, res.Transport = e.SID(in.Session), e.TransportName(in.Session)
			if s != nil {
				res.Namespaces = s.Namespaces(in.Session)
			}
		}
	case InOpenCount:
		res.Value = int64(e.Len())
	}
	return c.effects(out, &res)
}

// effects appends the effects pending in the servers, then the result.
func (c *Core) effects(out []byte, res *Result) []byte {
	effs := c.e.Effects()
	for i := range effs {
		out = AppendEffect(out, &effs[i])
	}
	clear(effs) // drop the references to the inputs
	return AppendResult(out, res)
}

// keep returns data, copied when the core may hold on to it after the call
// (when the Socket.IO layer is on and it may be part of a binary packet):
// the input arena is overwritten by the next batch.
func (c *Core) keep(data []byte, mayKeep bool) []byte {
	if c.s == nil || !mayKeep || data == nil {
		return data
	}
	return append(make([]byte, 0, len(data)), data...)
}

// binaryHeader reports whether a text WebSocket frame may start a binary
// Socket.IO packet: an Engine.IO message ("4") whose Socket.IO type is
// BINARY_EVENT ("5") or BINARY_ACK ("6"), which the layer keeps until its
// attachments arrive.
func binaryHeader(b []byte) bool {
	return len(b) >= 2 && b[0] == '4' && (b[1] == '5' || b[1] == '6')
}

func b2i(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// random hands out Config.Entropy first, then the configured source.
type random struct {
	entropy []byte
	seeded  *rand.ChaCha8
	system  func([]byte)
}

func (r *random) fill(b []byte) {
	n := copy(b, r.entropy)
	r.entropy = r.entropy[n:]
	b = b[n:]
	switch {
	case len(b) == 0:
	case r.seeded != nil:
		_, _ = r.seeded.Read(b)
	default:
		r.system(b)
	}
}
