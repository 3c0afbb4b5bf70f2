package abi

import (
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// An input record is an 8-byte header, then the fields of its kind in a
// fixed order:
//
//	u8 kind, u8 flags, u16 reserved (0), u32 size (of the whole record)
//
// The fields must fill the record exactly, and flags outside those of the
// kind are refused, so every valid record has one encoding.

const inputHeader = 8

// Flags of a request record.
const (
	ReqB64       = 1 << 0
	ReqUpgrade   = 1 << 1
	ReqBinary    = 1 << 2
	ReqBadOrigin = 1 << 3
	ReqRefused   = 1 << 4
	ReqJSONP     = 1 << 5
	ReqIDFailed  = 1 << 6
	reqAll       = ReqB64 | ReqUpgrade | ReqBinary | ReqBadOrigin | ReqRefused | ReqJSONP | ReqIDFailed
)

// flagOne is the single flag of frame and send (binary) and closed
// (errored) records.
const flagOne = 1

// Flags of emit and broadcast records: the sio.SendFlags of the packet.
const (
	EmitFlagVolatile   = uint8(sio.SendVolatile)   // 1
	EmitFlagNoCompress = uint8(sio.SendNoCompress) // 2 (version 3)
	emitFlagsAll       = EmitFlagVolatile | EmitFlagNoCompress
)

// Input is one decoded input record. Byte fields alias the buffer it was
// decoded from; which fields a kind uses is listed in bindings/ABI.md.
type Input struct {
	Kind    InputKind
	Flags   uint8
	Conn    uint64
	Session eio.Handle

	Method, EIO, Transport, SID, Origin []byte // request
	J                                   []byte // request: the "j" query parameter (JSONP)
	ID                                  []byte // request: the session id the host chose (handshake)
	Text                                []byte // request: refusal message; close, closeAll: reason; refuse: message
	Desc                                []byte // close: description
	Nsp, PID                            []byte // accept (with SID), refuse, emit, leave
	Data                                []byte // body, frame, send, refuse (nil: no data), emit and broadcast (the packet's text)
	Attachments                         [][]byte
	Handles                             []eio.Handle // broadcast: the recipients
}

// Binary reports the binary flag of a frame or send record.
func (in *Input) Binary() bool { return in.Flags&flagOne != 0 }

// Inputs decodes batches of input records, reusing its memory from one
// batch to the next.
type Inputs struct {
	List    []Input
	slab    [][]byte
	handles []eio.Handle
}

// Decode decodes n records from the start of b into List. Nothing is
// decoded when one record is invalid. The records' byte fields alias b.
func (ins *Inputs) Decode(b []byte, n int) error {
	clear(ins.slab)
	ins.slab, ins.handles = ins.slab[:0], ins.handles[:0]
	var err error
	ins.List, err = decodeBatch(b, n, ins.List, ins.decodeOne)
	return err
}

// DecodeInput decodes the one record at the start of b and returns what
// follows it.
func DecodeInput(b []byte, in *Input) (rest []byte, err error) {
	var ins Inputs
	return ins.decodeOne(b, in)
}

// recordHeader checks the header of the input record at the start of b
// (server and client records share it) and returns its kind, flags, a
// reader of its body, and what follows it.
func recordHeader(b []byte) (kind, flags uint8, r reader, rest []byte, err error) {
	if len(b) < inputHeader {
		return 0, 0, r, nil, ErrTruncated
	}
	size := getU32(b[4:])
	if size < inputHeader || uint64(size) > uint64(len(b)) {
		return 0, 0, r, nil, ErrRecordSize
	}
	if getU16(b[2:]) != 0 {
		return 0, 0, r, nil, ErrBadInput
	}
	return b[0], b[1], reader{b: b[inputHeader:size]}, b[size:], nil
}

// recordEnd checks that a record's body was read whole and that it set
// only the allowed flags.
func recordEnd(r *reader, flags, allowed uint8) error {
	switch {
	case r.err != nil:
		return r.err
	case len(r.b) != 0, flags&^allowed != 0:
		return ErrBadInput
	}
	return nil
}

// decodeBatch decodes n records from the start of b into list with one;
// nothing is kept when one record is invalid.
func decodeBatch[T any](b []byte, n int, list []T, one func([]byte, *T) ([]byte, error)) ([]T, error) {
	if n < 0 || n > len(b)/inputHeader {
		return list[:0], ErrRecordSize
	}
	if cap(list) < n {
		list = make([]T, n)
	}
	list = list[:n]
	for i := range list {
		rest, err := one(b, &list[i])
		if err != nil {
			return list[:0], err
		}
		b = rest
	}
	return list, nil
}

func (ins *Inputs) decodeOne(b []byte, in *Input) ([]byte, error) {
	kind, flags, r, rest, err := recordHeader(b)
	if err != nil {
		return nil, err
	}
	*in = Input{Kind: InputKind(kind), Flags: flags}
	allowed := uint8(0)
	switch in.Kind {
	case InRequest:
		allowed = reqAll
		in.Conn = r.u64()
		in.Method, in.EIO, in.Transport, in.SID = r.str(), r.str(), r.str(), r.str()
		in.Origin, in.Text, in.J, in.ID = r.str(), r.str(), r.str(), r.str()
		if len(in.J) > 0 && flags&ReqJSONP == 0 {
			return nil, ErrBadInput // one encoding: no j without the flag
		}
	case InBody:
		allowed = 3 // the eio.BodyStatus
		in.Conn, in.Session = r.u64(), eio.Handle(r.u32())
		in.Data = r.bytes()
	case InFrame:
		allowed = flagOne
		in.Conn, in.Session = r.u64(), eio.Handle(r.u32())
		in.Data = r.bytes()
	case InClosed:
		allowed = flagOne
		in.Conn, in.Session = r.u64(), eio.Handle(r.u32())
	case InSend:
		allowed = flagOne
		in.Session = eio.Handle(r.u32())
		in.Data = r.bytes()
	case InClose:
		in.Session = eio.Handle(r.u32())
		in.Text, in.Desc = r.str(), r.str()
	case InCloseAll:
		in.Text = r.str()
	case InTick, InOpenCount:
	case InAccept:
		in.Session = eio.Handle(r.u32())
		in.Nsp, in.SID, in.PID = r.str(), r.str(), r.str()
	case InRefuse:
		in.Session = eio.Handle(r.u32())
		in.Nsp, in.Text, in.Data = r.str(), r.str(), r.bytes()
	case InEmit:
		allowed = emitFlagsAll
		in.Session = eio.Handle(r.u32())
		in.Nsp, in.Data = r.str(), r.bytes()
		ins.slab, in.Attachments = r.list(ins.slab)
	case InLeave:
		in.Session = eio.Handle(r.u32())
		in.Nsp = r.str()
	case InBroadcast:
		allowed = emitFlagsAll
		in.Nsp, in.Data = r.str(), r.bytes()
		ins.slab, in.Attachments = r.list(ins.slab)
		ins.handles, in.Handles = r.handles(ins.handles)
	case InInfo:
		in.Session = eio.Handle(r.u32())
	default:
		return nil, ErrUnknownInput
	}
	if err := recordEnd(&r, in.Flags, allowed); err != nil {
		return nil, err
	}
	return rest, nil
}

// Encoder writes input records: a host appends one per input, then hands
// Bytes and Len to process. Its memory is reused after Reset.
type Encoder struct {
	buf []byte
	n   int
}

// Reset empties the encoder.
func (e *Encoder) Reset() { e.buf, e.n = e.buf[:0], 0 }

// Bytes returns the records written since Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of records written since Reset.
func (e *Encoder) Len() int { return e.n }

func (e *Encoder) begin(k InputKind, flags uint8) int {
	off := len(e.buf)
	e.buf = append(e.buf, byte(k), flags, 0, 0, 0, 0, 0, 0)
	return off
}

func (e *Encoder) end(off int) {
	putU32(e.buf[off+4:], uint32(len(e.buf)-off))
	e.n++
}

func b2u(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// Request adds the metadata of an HTTP request (eio.Server.Request).
func (e *Encoder) Request(r *eio.Request) {
	flags := b2u(r.B64)*ReqB64 | b2u(r.Upgrade)*ReqUpgrade | b2u(r.Binary)*ReqBinary |
		b2u(r.BadOrigin)*ReqBadOrigin | b2u(r.Refused)*ReqRefused | b2u(r.JSONP)*ReqJSONP |
		b2u(r.IDFailed)*ReqIDFailed
	off := e.begin(InRequest, flags)
	e.buf = appendU64(e.buf, r.Conn)
	e.buf = appendString(e.buf, r.Method)
	e.buf = appendString(e.buf, r.EIO)
	e.buf = appendString(e.buf, r.Transport)
	e.buf = appendString(e.buf, r.SID)
	e.buf = appendString(e.buf, r.Origin)
	e.buf = appendString(e.buf, r.RefusedMessage)
	j := r.J
	if !r.JSONP {
		j = ""
	}
	e.buf = appendString(e.buf, j)
	e.buf = appendString(e.buf, r.ID)
	e.end(off)
}

// Body adds the body of a POST request (eio.Server.Body).
func (e *Encoder) Body(conn uint64, h eio.Handle, body []byte, st eio.BodyStatus) {
	off := e.begin(InBody, uint8(st)&3)
	e.buf = appendU64(e.buf, conn)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendBytes(e.buf, body)
	e.end(off)
}

// Frame adds a WebSocket message (eio.Server.Frame).
func (e *Encoder) Frame(conn uint64, h eio.Handle, binary bool, data []byte) {
	off := e.begin(InFrame, b2u(binary))
	e.buf = appendU64(e.buf, conn)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendBytes(e.buf, data)
	e.end(off)
}

// ConnClosed adds a connection that went away (eio.Server.ConnClosed).
func (e *Encoder) ConnClosed(conn uint64, h eio.Handle, errored bool) {
	off := e.begin(InClosed, b2u(errored))
	e.buf = appendU64(e.buf, conn)
	e.buf = appendU32(e.buf, uint32(h))
	e.end(off)
}

// Send adds an Engine.IO message to a session (eio.Server.Send).
func (e *Encoder) Send(h eio.Handle, binary bool, data []byte) {
	off := e.begin(InSend, b2u(binary))
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendBytes(e.buf, data)
	e.end(off)
}

// CloseSession adds the application's close of a session
// (eio.Server.CloseSessionDesc).
func (e *Encoder) CloseSession(h eio.Handle, reason, desc string) {
	off := e.begin(InClose, 0)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendString(e.buf, reason)
	e.buf = appendString(e.buf, desc)
	e.end(off)
}

// CloseAll adds the close of every session (eio.Server.CloseAll).
func (e *Encoder) CloseAll(reason string) {
	off := e.begin(InCloseAll, 0)
	e.buf = appendString(e.buf, reason)
	e.end(off)
}

// Tick adds a run of the timers due (eio.Server.Tick).
func (e *Encoder) Tick() { e.end(e.begin(InTick, 0)) }

// Accept adds the answer to a CONNECT (sio.Server.Accept).
func (e *Encoder) Accept(h eio.Handle, nsp, sid, pid string) {
	off := e.begin(InAccept, 0)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendString(e.buf, nsp)
	e.buf = appendString(e.buf, sid)
	e.buf = appendString(e.buf, pid)
	e.end(off)
}

// Refuse adds the refusal of a CONNECT (sio.Server.Refuse); data is the
// error's JSON data, nil for none.
func (e *Encoder) Refuse(h eio.Handle, nsp, message string, data []byte) {
	off := e.begin(InRefuse, 0)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendString(e.buf, nsp)
	e.buf = appendString(e.buf, message)
	e.buf = appendBytes(e.buf, data)
	e.end(off)
}

// Emit adds an encoded Socket.IO packet for a session (sio.Server.Send).
func (e *Encoder) Emit(h eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) {
	off := e.begin(InEmit, uint8(flags))
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendString(e.buf, nsp)
	e.buf = appendBytes(e.buf, text)
	e.buf = appendList(e.buf, attachments)
	e.end(off)
}

// Broadcast adds an encoded Socket.IO packet for every session of hs
// (sio.Server.Send for each, in order): the payload is written once.
func (e *Encoder) Broadcast(hs []eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) {
	off := e.begin(InBroadcast, uint8(flags))
	e.buf = appendString(e.buf, nsp)
	e.buf = appendBytes(e.buf, text)
	e.buf = appendList(e.buf, attachments)
	e.buf = appendU32(e.buf, uint32(len(hs)))
	for _, h := range hs {
		e.buf = appendU32(e.buf, uint32(h))
	}
	e.end(off)
}

// Leave adds the server's disconnect of a namespace (sio.Server.Leave).
func (e *Encoder) Leave(h eio.Handle, nsp string) {
	off := e.begin(InLeave, 0)
	e.buf = appendU32(e.buf, uint32(h))
	e.buf = appendString(e.buf, nsp)
	e.end(off)
}

// Info adds a query of session h: its id, protocol, transport and joined
// namespaces come back in the input's result.
func (e *Encoder) Info(h eio.Handle) {
	off := e.begin(InInfo, 0)
	e.buf = appendU32(e.buf, uint32(h))
	e.end(off)
}

// OpenCount adds a query of the number of open sessions.
func (e *Encoder) OpenCount() { e.end(e.begin(InOpenCount, 0)) }
