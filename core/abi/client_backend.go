package abi

import "github.com/siohost/siohost/core/eio"

// ClientBackend is the client contract (the client section of
// bindings/ABI.md) as Go methods: one per client input record, each
// returning the record's result, and Effects for the effect list. A Go
// host of Socket.IO clients (hostnative's Manager) drives it, so its
// orchestration is written once whether it runs natively (*ClientCore:
// direct calls, no encoding) or in WebAssembly (hostwasm's ClientCore:
// records in, the effect list decoded out).
//
// A ClientBackend is driven by one goroutine at a time (the host's lock).
// The effects of the calls made since the last Effects are returned by the
// next Effects; their byte fields stay valid until the next call. Timers
// are all the clients' together: NextDeadline is the earliest, at which
// the host calls Tick.
//
// A backend that fails (a guest that traps or panics) returns zero results
// from then on, and Effects reports the error; the host then drops its
// clients as if their transports had failed.
type ClientBackend interface {
	// Create makes a client and returns its handle.
	Create(now int64, o ClientOptions) uint32
	Destroy(now int64, c uint32)
	Response(now int64, c, conn uint32, status int, contentType string, body []byte)
	Failed(now int64, c, conn uint32, message string)
	WSOpened(now int64, c, conn uint32)
	WSMessage(now int64, c, conn uint32, binary bool, data []byte)
	WSClosed(now int64, c, conn uint32, code int)
	Tick(now int64)
	// Connect joins nsp with auth; flags may hold ConnectAuthHost. It
	// also answers an auth effect.
	Connect(now int64, c uint32, nsp string, auth []byte, flags uint8) int64
	Disconnect(now int64, c uint32, nsp string)
	// Emit returns the ack id (>= 0), EmitNoAck, EmitDropped or
	// EmitRefused.
	Emit(now int64, c uint32, nsp, event string, args []byte, attachments [][]byte, flags uint8, timeout uint32) int64
	Ack(now int64, c uint32, nsp string, id uint32, args []byte, attachments [][]byte) int64
	CancelAck(now int64, c uint32, nsp string, id uint32)
	NextDeadline() (int64, bool)
	Effects() ([]eio.Effect, error)
	// Close releases the backend (a guest instance); its clients are gone.
	Close() error
}

var _ ClientBackend = (*ClientCore)(nil)

// begin starts a direct call: the effects Effects returned are dropped.
func (cc *ClientCore) begin() {
	if cc.taken {
		clear(cc.heads)
		cc.effs, cc.slab, cc.heads, cc.taken = cc.effs[:0], cc.slab[:0], cc.heads[:0], false
	}
}

// call runs one input built by the caller, outside Process.
func (cc *ClientCore) call(now int64, in *ClientInput) int64 {
	cc.begin()
	return cc.run(now, in)
}

// keep appends e to the effect list, its byte fields copied to the slab.
// A slab that grows leaves the earlier copies where they were, so they
// stay valid.
func (cc *ClientCore) keep(e *eio.Effect) {
	cc.begin()
	cc.slab, e.Prefix = keepBytes(cc.slab, e.Prefix)
	cc.slab, e.Data = keepBytes(cc.slab, e.Data)
	if e.Attachments != nil {
		start := len(cc.heads)
		for _, a := range e.Attachments {
			var k []byte
			cc.slab, k = keepBytes(cc.slab, a)
			cc.heads = append(cc.heads, k)
		}
		e.Attachments = cc.heads[start:len(cc.heads):len(cc.heads)]
	}
	cc.effs = append(cc.effs, *e)
}

func keepBytes(slab, v []byte) ([]byte, []byte) {
	if v == nil {
		return slab, nil
	}
	start := len(slab)
	slab = append(slab, v...)
	return slab, slab[start:len(slab):len(slab)]
}

// Effects returns the effects of the direct calls since the last Effects.
func (cc *ClientCore) Effects() ([]eio.Effect, error) {
	if cc.taken {
		return nil, nil
	}
	cc.taken = true
	return cc.effs, nil
}

// Close does nothing: a native core holds no resources.
func (cc *ClientCore) Close() error { return nil }

func (cc *ClientCore) Create(now int64, o ClientOptions) uint32 {
	return uint32(cc.call(now, &ClientInput{Kind: CInCreate, Options: o}))
}

func (cc *ClientCore) Destroy(now int64, c uint32) {
	cc.call(now, &ClientInput{Kind: CInDestroy, Client: c})
}

func (cc *ClientCore) Response(now int64, c, conn uint32, status int, contentType string, body []byte) {
	cc.begin()
	if cl := cc.client(now, c); cl != nil {
		cl.response(conn, status, contentType, body)
		cl.pump()
	}
}

func (cc *ClientCore) Failed(now int64, c, conn uint32, message string) {
	cc.begin()
	if cl := cc.client(now, c); cl != nil {
		cl.failed(conn, message)
		cl.pump()
	}
}

func (cc *ClientCore) WSOpened(now int64, c, conn uint32) {
	cc.call(now, &ClientInput{Kind: CInWSOpened, Client: c, Conn: conn})
}

func (cc *ClientCore) WSMessage(now int64, c, conn uint32, binary bool, data []byte) {
	in := ClientInput{Kind: CInWSMessage, Client: c, Conn: conn, Data: data}
	if binary {
		in.Flags = flagOne
	}
	cc.call(now, &in)
}

func (cc *ClientCore) WSClosed(now int64, c, conn uint32, code int) {
	cc.call(now, &ClientInput{Kind: CInWSClosed, Client: c, Conn: conn, Num: uint32(code)})
}

func (cc *ClientCore) Tick(now int64) {
	cc.begin()
	cc.tick(now)
}

func (cc *ClientCore) Connect(now int64, c uint32, nsp string, auth []byte, flags uint8) int64 {
	cc.begin()
	return cc.connect(now, c, nsp, auth, flags)
}

func (cc *ClientCore) Disconnect(now int64, c uint32, nsp string) {
	cc.begin()
	cc.disconnect(now, c, nsp)
}

func (cc *ClientCore) Emit(now int64, c uint32, nsp, event string, args []byte, attachments [][]byte, flags uint8, timeout uint32) int64 {
	cc.begin()
	return cc.emit(now, c, nsp, event, args, attachments, flags, timeout)
}

func (cc *ClientCore) Ack(now int64, c uint32, nsp string, id uint32, args []byte, attachments [][]byte) int64 {
	cc.begin()
	return cc.ack(now, c, nsp, id, args, attachments)
}

func (cc *ClientCore) CancelAck(now int64, c uint32, nsp string, id uint32) {
	cc.begin()
	cc.cancelAck(now, c, nsp, id)
}
